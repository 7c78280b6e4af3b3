{launch_calls},
requested AS (
  SELECT
    a.event_id,
    SUM(COALESCE(item.value:maxCount::INT, item.value:minCount::INT, 1)) AS instances
  FROM actors a,
    LATERAL FLATTEN(input => a.requestParameters:instancesSet:items) item
  GROUP BY a.event_id
)
SELECT
  a.principal,
  a.account_id,
  a.p_event_time::DATE AS day,
  SUM(COALESCE(r.instances, 1)) AS requested_instances,
  SUM(CASE WHEN a.outcome = 'success' THEN 0 ELSE COALESCE(r.instances, 1) END)
    AS refused_instances,
  COUNT(*) AS launch_calls,
  MIN(a.p_event_time) AS first_call,
  MAX(a.p_event_time) AS last_call,
  ARRAY_AGG(DISTINCT a.actor_arn) WITHIN GROUP (ORDER BY a.actor_arn) AS actor_arns,
  ARRAY_AGG(DISTINCT a.instance_type) WITHIN GROUP (ORDER BY a.instance_type) AS instance_types,
  ARRAY_AGG(DISTINCT a.subnet_id) WITHIN GROUP (ORDER BY a.subnet_id) AS subnet_ids,
  ARRAY_AGG(DISTINCT a.error_code) WITHIN GROUP (ORDER BY a.error_code) AS error_codes,
  ARRAY_AGG(DISTINCT a.event_id) WITHIN GROUP (ORDER BY a.event_id) AS event_ids
FROM actors a
LEFT JOIN requested r ON r.event_id = a.event_id
WHERE a.outcome <> 'dry_run' AND NOT a.on_behalf
GROUP BY a.principal, a.account_id, day
HAVING SUM(COALESCE(r.instances, 1)) >= {instance_threshold}
  {crossed_since_last_run}
ORDER BY requested_instances DESC, a.principal, a.account_id, day
