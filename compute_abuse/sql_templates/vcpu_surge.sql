{launch_calls},
{launched},
-- VCPUSurge's windows: the principal's three spans, a source IP's (addresses only, not services
-- or the console's "AWS Internal") and an account's, each summing its span's vCPUs up to now.
surge_windows (window_kind, span, seconds, threshold) AS (SELECT * FROM VALUES
    {surge_windows}
)
SELECT
  w.window_kind, CASE w.window_kind WHEN 'principal' THEN l.principal WHEN 'source IP' THEN l.source_ip
    ELSE l.account_id END AS grouped_value, w.span, MAX(w.threshold) AS threshold,
  ARRAY_AGG(DISTINCT principal) WITHIN GROUP (ORDER BY principal) AS principals, ARRAY_AGG(DISTINCT account_id) WITHIN GROUP (ORDER BY account_id) AS account_ids,
  ARRAY_AGG(DISTINCT actor_arn) WITHIN GROUP (ORDER BY actor_arn) AS actor_arns, ARRAY_AGG(DISTINCT source_ip) WITHIN GROUP (ORDER BY source_ip) AS source_ips,
  ARRAY_AGG(DISTINCT user_agent) WITHIN GROUP (ORDER BY user_agent) AS user_agents,
  SUM(vcpus) AS total_vcpus, SUM(accelerators) AS total_accelerators,
  COUNT(DISTINCT event_id) AS launch_calls, SUM(launched_count) AS instances,
  MIN(p_event_time) AS first_launch, MAX(p_event_time) AS last_launch,
  ARRAY_AGG(DISTINCT event_id) WITHIN GROUP (ORDER BY event_id) AS event_ids
FROM launched l
JOIN surge_windows w ON l.p_event_time >= DATEADD(second, -w.seconds, CURRENT_TIMESTAMP())
WHERE NOT l.allowlisted AND (w.window_kind <> 'source IP' OR {is_ip_address})
GROUP BY window_kind, grouped_value, span
HAVING SUM(vcpus) > MAX(w.threshold)
ORDER BY total_vcpus DESC, window_kind, grouped_value, span
