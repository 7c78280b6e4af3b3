{launch_calls},
{launched}
SELECT
  principal,
  ARRAY_AGG(DISTINCT account_id) WITHIN GROUP (ORDER BY account_id) AS account_ids,
  ARRAY_AGG(DISTINCT actor_arn) WITHIN GROUP (ORDER BY actor_arn) AS actor_arns,
  ARRAY_AGG(DISTINCT source_ip) WITHIN GROUP (ORDER BY source_ip) AS source_ips,
  ARRAY_AGG(DISTINCT user_agent) WITHIN GROUP (ORDER BY user_agent) AS user_agents,
  SUM(vcpus) AS total_vcpus,
  SUM(accelerators) AS total_accelerators,
  COUNT(DISTINCT event_id) AS launch_calls,
  COUNT(*) AS instances,
  MIN(p_event_time) AS first_launch,
  MAX(p_event_time) AS last_launch,
  ARRAY_AGG(DISTINCT event_id) WITHIN GROUP (ORDER BY event_id) AS event_ids
FROM launched
GROUP BY principal
HAVING SUM(vcpus) > {vcpu_threshold}
ORDER BY total_vcpus DESC, principal
