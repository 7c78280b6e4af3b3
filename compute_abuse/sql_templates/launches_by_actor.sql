{common},
launched AS (
  SELECT
    a.actor_arn, a.account_id, a.region, a.event_id, a.p_event_time, a.source_ip, a.user_agent,
    LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type)) AS instance_type,
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
-- Pivot: sort by GPUs, then look at the regions and instance types an actor never used before.
SELECT
  actor_arn,
  account_id,
  COUNT(DISTINCT event_id) AS launch_calls,
  COUNT(*) AS instances,
  SUM(vcpus) AS vcpus,
  SUM(accelerators) AS accelerators,
  ARRAY_AGG(DISTINCT region) WITHIN GROUP (ORDER BY region) AS regions,
  ARRAY_AGG(DISTINCT instance_type) WITHIN GROUP (ORDER BY instance_type) AS instance_types,
  ARRAY_AGG(DISTINCT source_ip) WITHIN GROUP (ORDER BY source_ip) AS source_ips,
  MIN(p_event_time) AS first_launch,
  MAX(p_event_time) AS last_launch
FROM launched
GROUP BY actor_arn, account_id
ORDER BY accelerators DESC, vcpus DESC
