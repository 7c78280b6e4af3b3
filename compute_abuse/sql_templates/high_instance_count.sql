{launch_calls},
-- HighInstanceCount's windows, per UTC day: the principal's, a source IP's (across principals
-- and accounts; IP addresses only) and an account's (across principals), each with its threshold.
-- Instances asked for by every EC2 launch API and auto scaling group's growth. Dry runs, calls a
-- fleet service made for someone, node controllers' launches (Karpenter) and allowlisted callers
-- are not counted, as in the streaming rule.
count_windows (ord, window_kind, threshold) AS (
  SELECT * FROM VALUES
    {count_windows}
),
counted AS (
  SELECT
    w.ord, w.window_kind, w.threshold,
    CASE w.window_kind WHEN 'principal' THEN a.principal WHEN 'source IP' THEN a.source_ip
      ELSE a.account_id END AS grouped_value,
    a.*,
    COALESCE(
      a.requestParameters:subnetId::STRING,
      a.requestParameters:networkInterfaceSet:items[0]:subnetId::STRING,
      a.requestParameters:launchSpecification:subnetId::STRING,
      a.responseElements:instancesSet:items[0]:subnetId::STRING,
      ''
    ) AS subnet_id
  FROM actors a
  CROSS JOIN count_windows w
  WHERE a.outcome <> 'dry_run' AND NOT a.on_behalf AND NOT a.capacity_controller
    AND NOT a.allowlisted
    AND (w.window_kind <> 'source IP' OR {is_ip_address})
){count_crossings}
SELECT
  window_kind,
  grouped_value,
  p_event_time::DATE AS day,
  MAX(threshold) AS threshold,
  SUM(instances) AS requested_instances,
  SUM(CASE WHEN outcome = 'success' THEN 0 ELSE instances END) AS refused_instances,
  COUNT(*) AS launch_calls,
  MIN(p_event_time) AS first_call,
  MAX(p_event_time) AS last_call,
  ARRAY_AGG(DISTINCT principal) WITHIN GROUP (ORDER BY principal) AS principals,
  ARRAY_AGG(DISTINCT actor_arn) WITHIN GROUP (ORDER BY actor_arn) AS actor_arns,
  ARRAY_AGG(DISTINCT instance_type) WITHIN GROUP (ORDER BY instance_type) AS instance_types,
  ARRAY_AGG(DISTINCT subnet_id) WITHIN GROUP (ORDER BY subnet_id) AS subnet_ids,
  ARRAY_AGG(DISTINCT error_code) WITHIN GROUP (ORDER BY error_code) AS error_codes,
  ARRAY_AGG(DISTINCT event_id) WITHIN GROUP (ORDER BY event_id) AS event_ids
FROM counted
GROUP BY window_kind, grouped_value, day
HAVING SUM(instances) >= MAX(threshold)
  {crossed_since_last_run}
ORDER BY requested_instances DESC, window_kind, grouped_value, day
