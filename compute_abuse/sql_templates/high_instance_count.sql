{launch_calls},
{count_windows_cte}
-- Instances asked for by every EC2 launch API and auto scaling group's growth. Dry runs, calls a
-- fleet service made for someone, node controllers' launches (Karpenter) and allowlisted callers
-- are not counted, as in the streaming rule.
counted AS (
  SELECT
    w.ord, w.window_kind, w.threshold,
    CASE w.window_kind WHEN 'principal' THEN a.principal WHEN 'source IP' THEN a.source_ip
      ELSE a.account_id END AS grouped_value,
    a.* REPLACE (COALESCE(CEIL(a.asked_vcpus / NULLIF(a.unit_vcpus, 0)), a.instances) AS instances),
    COALESCE(
      a.requestParameters:subnetId::STRING,
      a.requestParameters:networkInterfaceSet:items[0]:subnetId::STRING,
      a.requestParameters:launchSpecification:subnetId::STRING,
      a.responseElements:instancesSet:items[0]:subnetId::STRING,
      ''
    ) AS subnet_id
  FROM (  -- a fleet in vCPUs, created or grown: as many instances as its vCPUs make of its smallest type (none known: 1)
    SELECT a.*, COALESCE(t.vcpus, {size_rule_vcpus}) AS unit_vcpus
    FROM (SELECT *, SPLIT_PART(COALESCE(group_type, instance_type), '.', 2) AS size FROM actors) a
    LEFT JOIN instance_types t ON t.instance_type = COALESCE(a.group_type, a.instance_type)
  ) a
  CROSS JOIN count_windows w
  WHERE a.outcome <> 'dry_run' AND NOT a.on_behalf AND NOT a.capacity_controller
    AND NOT a.allowlisted
    AND (w.window_kind <> 'source IP' OR {is_ip_address})
){count_crossings}
{count_report}
