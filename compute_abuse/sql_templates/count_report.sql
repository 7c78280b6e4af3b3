-- Each day at its threshold (subnets, types and outcomes listed: Elastic's buckets).
SELECT window_kind, grouped_value, p_event_time::DATE AS day, MAX(threshold) AS threshold, SUM(instances) AS requested_instances,
  SUM(CASE WHEN outcome = 'success' THEN 0 ELSE instances END) AS refused_instances, COUNT(*) AS launch_calls,
  MIN(p_event_time) AS first_call, MAX(p_event_time) AS last_call,
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
  {service_days_only}
ORDER BY requested_instances DESC, window_kind, grouped_value, day
