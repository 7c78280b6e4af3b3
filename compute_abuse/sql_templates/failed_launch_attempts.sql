{launch_calls}
-- Refused launches and dry runs by actor and error code: UnauthorizedOperation and
-- VcpuLimitExceeded on accelerated types are a stolen key learning what it may launch.
SELECT
  a.actor_arn,
  a.account_id,
  a.outcome,
  a.error_code,
  COUNT(*) AS calls,
  ARRAY_AGG(DISTINCT a.instance_type) WITHIN GROUP (ORDER BY a.instance_type) AS instance_types,
  ARRAY_AGG(DISTINCT a.region) WITHIN GROUP (ORDER BY a.region) AS regions,
  MIN(a.p_event_time) AS first_call,
  MAX(a.p_event_time) AS last_call
FROM actors a
WHERE a.outcome <> 'success'
GROUP BY a.actor_arn, a.account_id, a.outcome, a.error_code
ORDER BY calls DESC, a.actor_arn, a.account_id, a.outcome, a.error_code
