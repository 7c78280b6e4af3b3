{launch_calls},
{accelerated_types}
-- Every launch or attempt of an accelerated type (GPU, Inferentia, Trainium, FPGA, media): a row for each such type a call
-- names (a fleet's or group's overrides too). Pivot: the same actor's dry runs and failures before it, and its quota requests.
SELECT DISTINCT
  a.p_event_time, a.actor_arn, a.account_id, a.region, a.source_ip, a.user_agent,
  t.instance_type, t.accelerators AS accelerators_per_instance, a.outcome, a.error_code,
  a.event_id
FROM actors a
LEFT JOIN named_types n ON n.event_id = a.event_id
JOIN accelerated_types t ON t.instance_type = COALESCE(n.named_type, a.instance_type)
ORDER BY p_event_time DESC, event_id, instance_type  -- (the columns selected: DISTINCT orders by them)
