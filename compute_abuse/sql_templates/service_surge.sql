{launch_calls},
-- Types the size rule misprices or with accelerators, other services' sizes (Lightsail, CodeBuild). CPU units: 1,024 a vCPU.
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM (VALUES
    {service_type_values}
)),
{service_items},
-- Per call: its items' sum (CPU units, accelerators, instances, tasks); a node's price (smallest choice: vCPUs, then GPUs), nodes.
call_items AS (
  SELECT * REPLACE (fixed_units + COALESCE(nodes * node_units, 0) AS fixed_units, instances + COALESCE(nodes, 0) AS instances,
    fixed_accelerators + COALESCE(nodes * node_accelerators, 0) AS fixed_accelerators)
  FROM (SELECT event_id, SUM(IFF(choice, 0, COALESCE(item_units, item_count * 1024 * unit_vcpus))) AS fixed_units,
      SUM(IFF(choice, 0, item_count * unit_accelerators)) AS fixed_accelerators, SUM(IFF(choice, 0, item_count)) AS instances,
      SUM(IFF(choice, item_count, NULL)) AS nodes, MIN(IFF(node, 1024 * unit_vcpus, NULL)) AS node_units,
      MIN_BY(IFF(node, unit_accelerators, NULL), IFF(node, unit_vcpus * 1000 + unit_accelerators, NULL)) AS node_accelerators
    FROM (SELECT i.*, COALESCE(t.vcpus, {size_rule_vcpus}, 0) AS unit_vcpus, COALESCE(t.accelerators, 0) AS unit_accelerators,
        choice AND item_count IS NULL AND unit_vcpus > 0 AS node  -- (a node of a type AWS may choose, priced: unknown types left out)
      FROM (SELECT *, SPLIT_PART(item_type, '.', 2) AS size FROM items) i LEFT JOIN instance_types t ON t.instance_type = i.item_type)
    GROUP BY event_id)
),
-- Definitions pricing later calls (ECS's and Batch's by revision), per unit: an ECS task's CPU units (else its containers'); a
-- Batch job's nodes' (its largest range); a Lambda environment's ({lambda_mb} MB a vCPU, at most {lambda_max}); items' (others).
defined AS (
  SELECT d.event_id, 1 AS instances, SUM({cpu_units}) AS units, 0 AS accelerators
  FROM actors d, LATERAL FLATTEN(input => IFF(d.requestParameters:cpu IS NULL, d.requestParameters:containerDefinitions,
    TO_ARRAY(d.requestParameters))) part  -- (the task, or its containers)
  WHERE d.event_name = 'RegisterTaskDefinition' GROUP BY d.event_id
  UNION ALL SELECT d.event_id, IFF(d.requestParameters:containerProperties IS NULL,
      GREATEST(COALESCE(TRY_TO_NUMBER(d.requestParameters:nodeProperties:numNodes::STRING), 1), 1), 1) AS nodes,
    nodes * COALESCE(MAX(IFF(UPPER(part.value:type::STRING) = 'VCPU', {vcpu_units}, NULL)), MAX({legacy_vcpu_units})) AS units,
    nodes * COALESCE(MAX(IFF(UPPER(part.value:type::STRING) = 'GPU', TRY_TO_NUMBER(part.value:value::STRING), NULL)), 0) AS gpus
  FROM actors d, LATERAL FLATTEN(input => TO_ARRAY(COALESCE(d.requestParameters:nodeProperties:nodeRangeProperties,
      d.requestParameters:containerProperties))) r,  -- (each node range's container, or the job's)
    LATERAL FLATTEN(input => TO_ARRAY(COALESCE(r.value:container:resourceRequirements, r.value:resourceRequirements,
      PARSE_JSON('{}')))) part
  WHERE d.event_name = 'RegisterJobDefinition' GROUP BY d.event_id, nodes, TO_JSON(r.value)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY d.event_id ORDER BY gpus DESC, units DESC) = 1  -- (the largest range)
  UNION ALL SELECT event_id, 1, LEAST(CEIL(memory * 1024 / {lambda_mb}), 1024 * {lambda_max}), 0 FROM (SELECT event_id, COALESCE(
      TRY_TO_NUMBER(responseElements:memorySize::STRING), TRY_TO_NUMBER(requestParameters:memorySize::STRING), IFF(
      responseElements:functionArn IS NULL, NULL, {lambda_default_mb})) AS memory FROM actors WHERE event_source = 'lambda.amazonaws.com'
    AND is_definition) WHERE memory > 0  -- (a function created without a size: Lambda's default)
  UNION ALL SELECT event_id, instances, fixed_units, fixed_accelerators FROM call_items
),
-- The definition a call names (its revision, else the latest) as defined (not refused) before the call.
named AS (
  SELECT a.event_id, d.units, d.accelerators, d.instances
  FROM actors a LEFT JOIN (SELECT c.named, COALESCE(c.named_revision, 0) AS revision, c.p_event_time AS defined_at, d.*
    FROM actors c JOIN defined d ON d.event_id = c.event_id WHERE c.is_definition AND c.outcome = 'success') d
    ON d.named = a.named AND COALESCE(a.named_revision, d.revision) = d.revision AND d.defined_at <= a.p_event_time
  WHERE a.named IS NOT NULL AND NOT a.is_definition
  QUALIFY ROW_NUMBER() OVER (PARTITION BY a.event_id ORDER BY d.revision DESC, d.defined_at DESC) = 1
),
-- The group a call sizes (ECS service, by Application Auto Scaling too; EKS node group, Batch environment, EMR fleet or group:
-- each service's apart, named as the streaming rules do), its new size (tasks, nodes, vCPUs, instances; a minimum), one's CPU
-- units (a task's by its definition, 0 on container instances; a node's; none for EMR resizes, which name no type); a Batch
-- instance's.
sized AS (
  SELECT a.*, REPLACE(a.event_source, 'application-autoscaling', 'ecs') || '/' || a.account_id || '/' || a.region || '/' || CASE a.event_source
      WHEN 'application-autoscaling.amazonaws.com' THEN REGEXP_SUBSTR(a.requestParameters:resourceId::STRING, '{ecs_service_id}', 1, 1, 'e', 1)
      WHEN 'ecs.amazonaws.com' THEN REGEXP_REPLACE(COALESCE(a.requestParameters:cluster::STRING, 'default'), '^.*/', '')
        || '/' || REGEXP_REPLACE(COALESCE(a.requestParameters:serviceName::STRING, a.requestParameters:service::STRING), '^.*/', '')
      WHEN 'eks.amazonaws.com' THEN COALESCE(a.requestParameters:clusterName::STRING, a.requestParameters:name::STRING) || '/'
        || a.requestParameters:nodegroupName::STRING
      WHEN 'batch.amazonaws.com' THEN REGEXP_REPLACE(COALESCE(a.requestParameters:computeEnvironmentName::STRING,
        a.requestParameters:computeEnvironment::STRING), '^.*/', '')  -- (EMR: a fleet, or the one group named)
      ELSE COALESCE(a.requestParameters:instanceFleet:instanceFleetId::STRING, IFF(ARRAY_SIZE(TO_ARRAY(
        a.requestParameters:instanceGroups)) = 1, a.requestParameters:instanceGroups[0]:instanceGroupId::STRING, NULL)) END AS sized_group,
    CASE a.event_source WHEN 'application-autoscaling.amazonaws.com' THEN {scalable_minimum}  -- (a minimum: raises, never lowers)
      WHEN 'elasticmapreduce.amazonaws.com' THEN i.instances WHEN 'batch.amazonaws.com' THEN NULLIF(GREATEST(
        COALESCE(TRY_TO_NUMBER(a.requestParameters:computeResources:desiredvCpus::STRING), -1), COALESCE(TRY_TO_NUMBER(
        a.requestParameters:computeResources:minvCpus::STRING), -1)), -1)
      ELSE COALESCE(TRY_TO_NUMBER(a.requestParameters:desiredCount::STRING), TRY_TO_NUMBER(
        a.requestParameters:scalingConfig:desiredSize::STRING), IFF(a.event_name = 'CreateNodegroup', TRY_TO_NUMBER(
        a.requestParameters:scalingConfig:minSize::STRING), NULL)) END AS new_size,
    CASE a.event_source WHEN 'ecs.amazonaws.com' THEN IFF(a.on_instances, 0, n.units) WHEN 'eks.amazonaws.com' THEN i.node_units
      WHEN 'batch.amazonaws.com' THEN 1024 END AS own_units,  -- (Batch's sizes are vCPUs)
    IFF(a.event_source IN ('eks.amazonaws.com', 'batch.amazonaws.com'), i.node_accelerators, NULL) AS own_accelerators,
    IFF(a.event_source = 'batch.amazonaws.com' AND i.event_id IS NOT NULL, COALESCE(i.node_units, 0), NULL) AS own_instance_units
  FROM actors a LEFT JOIN call_items i ON i.event_id = a.event_id LEFT JOIN named n ON n.event_id = a.event_id
  WHERE a.event_name IN ({sizing_calls})  -- (Application Auto Scaling's resizes: kept, not counted; minimums: counted)
),
-- A sizing call's growth: a creation, its size; an update, what it adds to the size last kept (a group not seen: all of it; a
-- size refused is not kept; after a minimum, the largest of it and the sizes since the last size given), priced by its own
-- task definition or types, else the group's last (a Batch environment's types: not a refused call's).
grown AS (
  SELECT event_id, IFF(event_name LIKE 'Create%', new_size, GREATEST(new_size - COALESCE(LAST_VALUE(kept) IGNORE NULLS OVER (
      PARTITION BY sized_group ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) AS growth,
    COALESCE(own_units, LAST_VALUE(own_units) IGNORE NULLS OVER (PARTITION BY sized_group ORDER BY p_event_time, call_order
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS unit_units,
    COALESCE(own_accelerators, LAST_VALUE(own_accelerators) IGNORE NULLS OVER (PARTITION BY sized_group
      ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS unit_accelerators,
    IFF(event_source = 'batch.amazonaws.com', COALESCE(own_instance_units, LAST_VALUE(IFF(outcome = 'success', own_instance_units, NULL)) IGNORE NULLS OVER (
      PARTITION BY sized_group ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), NULL)
      AS instance_units  -- (a Batch environment of no known type: 0 instances, as in the streaming rules)
  FROM (SELECT *, IFF(outcome = 'success', MAX(IFF(outcome = 'success', new_size, NULL)) OVER (PARTITION BY sized_group, run
      ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), NULL) AS kept
    FROM (SELECT *, COUNT(IFF(outcome = 'success' AND event_source <> 'application-autoscaling.amazonaws.com' AND new_size IS NOT NULL, 1,
        NULL)) OVER (PARTITION BY sized_group ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
      FROM sized)
    WHERE sized_group IS NOT NULL)  -- (EMR groups resized in one call: counted whole, as items)
),
-- The ledger: each call's instances (a Batch environment's in its smallest type), vCPUs and accelerators, charged to its caller.
launched AS (
  SELECT a.*, COALESCE(IFF(g.instance_units IS NULL, g.growth, COALESCE(CEIL(g.growth * 1024 / NULLIF(g.instance_units, 0)), 0)),
      i.instances, a.named_count * n.instances, 0) AS launched_count,
    CEIL(COALESCE(g.growth * g.unit_units, i.fixed_units, a.named_count * n.units, 0) / 1024) AS vcpus,
    COALESCE(IFF(g.instance_units IS NULL, g.growth, launched_count) * g.unit_accelerators, i.fixed_accelerators,  -- (Batch: per instance)
      a.named_count * n.accelerators, 0) AS accelerators
  FROM actors a LEFT JOIN call_items i ON i.event_id = a.event_id LEFT JOIN grown g ON g.event_id = a.event_id LEFT JOIN named n
    ON n.event_id = a.event_id WHERE NOT a.on_behalf AND NOT a.is_definition  -- (definitions: read for the calls they price)
),
{ledger_windows}
