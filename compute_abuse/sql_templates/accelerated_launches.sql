{launch_calls},
{accelerated_types}
-- Every launch or attempt of an accelerated type (GPU, Inferentia, Trainium, FPGA, media).
-- Pivot: the same actor's dry runs and failures before it, and its quota requests.
SELECT
  a.p_event_time, a.actor_arn, a.account_id, a.region, a.source_ip, a.user_agent,
  a.instance_type, t.accelerators AS accelerators_per_instance, a.outcome, a.error_code,
  a.event_id
FROM actors a
JOIN accelerated_types t ON t.instance_type = a.instance_type
ORDER BY a.p_event_time DESC, a.event_id, a.instance_type
