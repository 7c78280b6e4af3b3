-- VCPUSurge's windows in order: the principal's 3 spans, a source IP's (not a service's or "AWS Internal"), an account's.
-- Each call in each of its windows (calls); the window it ends, sliding as the streaming rule's, ties by eventID (ended).
surge_windows (ord, window_kind, span, seconds, threshold) AS (SELECT * FROM (VALUES
    {surge_windows}
)),
calls AS (
  SELECT w.*, CASE w.window_kind WHEN 'principal' THEN l.principal WHEN 'source IP' THEN l.source_ip ELSE l.account_id END
      AS grouped_value, l.event_id, l.principal, l.account_id, l.actor_arn, l.source_ip, l.user_agent, l.p_event_time,
    l.p_parse_time, l.event_source, SUM(l.vcpus) AS vcpus, SUM(l.accelerators) AS accelerators, SUM(l.launched_count) AS instances
  FROM launched l CROSS JOIN surge_windows w
  WHERE NOT l.allowlisted AND (w.window_kind <> 'source IP' OR {is_ip_address})
  GROUP BY ALL
),
ended AS (
  SELECT c.ord, c.window_kind, c.grouped_value, c.span, c.threshold, c.event_id, SUM(p.vcpus) AS total_vcpus,
    MAX(c.vcpus) AS own_vcpus, ARRAY_AGG(DISTINCT p.principal) WITHIN GROUP (ORDER BY p.principal) AS principals,
    ARRAY_AGG(DISTINCT p.account_id) WITHIN GROUP (ORDER BY p.account_id) AS account_ids, ARRAY_AGG(DISTINCT p.actor_arn)
      WITHIN GROUP (ORDER BY p.actor_arn) AS actor_arns, ARRAY_AGG(DISTINCT p.source_ip) WITHIN GROUP (ORDER BY p.source_ip)
      AS source_ips, ARRAY_AGG(DISTINCT p.user_agent) WITHIN GROUP (ORDER BY p.user_agent) AS user_agents,
    SUM(p.accelerators) AS total_accelerators, COUNT(*) AS launch_calls, SUM(p.instances) AS instances,
    MIN(p.p_event_time) AS first_launch, MAX(p.p_event_time) AS last_launch, MAX(p.p_parse_time) AS last_arrival,
    ARRAY_AGG(p.event_id) WITHIN GROUP (ORDER BY p.event_id) AS event_ids,
    COUNT(IFF(p.event_source IN ({ec2_sources}) OR p.vcpus + p.accelerators = 0, NULL, 1)) AS service_calls
  FROM calls c JOIN calls p ON p.ord = c.ord AND p.grouped_value = c.grouped_value AND p.p_event_time > DATEADD(second,
    -c.seconds, c.p_event_time) AND (p.p_event_time < c.p_event_time OR p.p_event_time = c.p_event_time AND p.event_id <= c.event_id)
  GROUP BY c.ord, c.window_kind, c.grouped_value, c.span, c.threshold, c.event_id
)
