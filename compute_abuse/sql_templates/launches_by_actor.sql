{launch_calls},
{launched}
-- Pivot: sort by GPUs, then look at the regions and instance types an actor never used before.
SELECT
  actor_arn,
  account_id,
  COUNT(DISTINCT event_id) AS launch_calls,
  SUM(launched_count) AS instances,
  SUM(vcpus) AS vcpus,
  SUM(accelerators) AS accelerators,
  ARRAY_AGG(DISTINCT region) WITHIN GROUP (ORDER BY region) AS regions,
  ARRAY_AGG(DISTINCT launched_type) WITHIN GROUP (ORDER BY launched_type) AS instance_types,
  ARRAY_AGG(DISTINCT source_ip) WITHIN GROUP (ORDER BY source_ip) AS source_ips,
  MIN(p_event_time) AS first_launch,
  MAX(p_event_time) AS last_launch
FROM launched
GROUP BY actor_arn, account_id
ORDER BY accelerators DESC, vcpus DESC, actor_arn, account_id
