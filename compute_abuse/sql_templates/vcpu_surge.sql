{common},
launched AS (
  SELECT
    a.event_id,
    a.p_event_time,
    a.source_ip,
    a.account_id,
    a.actor_name,
    a.actor_upn_suffix,
    a.actor_arn,
    a.user_agent,
    COALESCE(
      item.value:cpuOptions:coreCount::INT * item.value:cpuOptions:threadsPerCore::INT,
      c.vcpus,
      0
    ) AS vcpus,
    COALESCE(c.accelerators, 0) AS accelerators
  FROM actors a,
    LATERAL FLATTEN(input => a.responseElements:instancesSet:items) item
  LEFT JOIN catalog c
    ON c.instance_type = LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type))
  WHERE a.outcome = 'success' AND NOT a.on_behalf
)
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
