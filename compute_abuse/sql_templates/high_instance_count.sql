{common},
requested AS (
  SELECT
    a.event_id,
    SUM(COALESCE(item.value:maxCount::INT, item.value:minCount::INT, 1)) AS instances
  FROM actors a,
    LATERAL FLATTEN(input => a.requestParameters:instancesSet:items) item
  GROUP BY a.event_id
)
SELECT
  a.actor_arn,
  a.actor_name,
  a.account_id,
  a.p_event_time::DATE AS day,
  a.subnet_id,
  a.instance_type,
  a.outcome,
  SUM(COALESCE(r.instances, 1)) AS requested_instances,
  COUNT(*) AS launch_calls,
  MIN(a.p_event_time) AS first_call,
  MAX(a.p_event_time) AS last_call,
  ARRAY_AGG(DISTINCT a.error_code) WITHIN GROUP (ORDER BY a.error_code) AS error_codes,
  ARRAY_AGG(DISTINCT a.event_id) WITHIN GROUP (ORDER BY a.event_id) AS event_ids
FROM actors a
LEFT JOIN requested r ON r.event_id = a.event_id
WHERE a.outcome <> 'dry_run' AND NOT a.on_behalf
GROUP BY a.actor_arn, a.actor_name, a.account_id, day, a.subnet_id, a.instance_type, a.outcome
HAVING SUM(COALESCE(r.instances, 1)) >= {instance_threshold}
ORDER BY requested_instances DESC
