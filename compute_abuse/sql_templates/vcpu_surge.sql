{common}
SELECT
  source_ip,
  account_id,
  actor_name,
  actor_upn_suffix,
  actor_arn,
  user_agent,
  SUM(vcpus) AS total_vcpus,
  SUM(accelerators) AS total_accelerators,
  COUNT(DISTINCT event_id) AS launch_calls,
  COUNT(*) AS instances,
  MIN(p_event_time) AS first_launch,
  MAX(p_event_time) AS last_launch,
  ARRAY_AGG(DISTINCT event_id) WITHIN GROUP (ORDER BY event_id) AS event_ids
FROM launched
GROUP BY source_ip, account_id, actor_name, actor_upn_suffix, actor_arn, user_agent
HAVING SUM(vcpus) > {vcpu_threshold}
ORDER BY total_vcpus DESC
