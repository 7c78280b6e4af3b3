{launch_calls},
-- Types priced: the catalog's that the size rule misprices or with accelerators, and the sizes other services sell under
-- their names (Lightsail bundles, CodeBuild compute types). CPU units below: 1,024 a vCPU, as ECS counts them.
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM VALUES
    {service_type_values}
),
-- ECS task definitions registered: one task's CPU units (the task's, else its containers' summed), by family and revision.
task_definitions AS (
  SELECT d.account_id || '/' || d.region || '/' || SPLIT_PART(d.ref, ':', 1) AS family,
    TRY_TO_NUMBER(SPLIT_PART(d.ref, ':', 2)) AS revision, d.p_event_time AS defined_at, d.event_id AS defined_by,
    SUM({cpu_units}) AS units
  FROM (SELECT *, REGEXP_REPLACE(responseElements:taskDefinition:taskDefinitionArn::STRING, '^.*task-definition/', '') AS ref
    FROM actors WHERE event_name = 'RegisterTaskDefinition') d,
    LATERAL FLATTEN(input => IFF(d.requestParameters:cpu IS NULL, d.requestParameters:containerDefinitions,
      TO_ARRAY(d.requestParameters))) part  -- (the task, or its containers)
  GROUP BY ALL
),
-- ECS tasks placed on Fargate: each call's, and their CPU units.
placed_tasks AS (
  SELECT a.event_id, COUNT(*) AS tasks, SUM({cpu_units}) AS units
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:tasks) part
  WHERE a.event_name IN ('RunTask', 'StartTask') AND NOT a.on_instances GROUP BY a.event_id
),
-- What a call asks for, item by item (count, type, or CPU units): SageMaker's jobs, notebooks, apps and HyperPod clusters (an
-- ml.* type is the EC2 type of that name) and EMR's instance groups, each its count of its type; EMR's older shape: a master
-- and instanceCount - 1 core instances; Lightsail's instances of a bundle; a CodeBuild build of the compute type the response
-- names; ECS tasks placed on Fargate; instances RunInstances launched (cpuOptions' vCPUs, else the type's).
-- EKS node groups' types are choices (choice): a node is of the smallest.
items AS (
  SELECT a.event_id, FALSE AS choice, COALESCE(TRY_TO_NUMBER(g.value:instanceCount::STRING), 1) AS item_count,
    REGEXP_REPLACE(LOWER(g.value:instanceType::STRING), '^ml[.]', '') AS item_type, NULL AS item_units
  FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(CASE a.event_name
    WHEN 'CreateTrainingJob' THEN COALESCE(a.requestParameters:resourceConfig:instanceGroups, a.requestParameters:resourceConfig)
    WHEN 'CreateProcessingJob' THEN a.requestParameters:processingResources:clusterConfig
    WHEN 'CreateTransformJob' THEN a.requestParameters:transformResources WHEN 'CreateNotebookInstance' THEN a.requestParameters
    WHEN 'CreateApp' THEN a.requestParameters:resourceSpec WHEN 'RunJobFlow' THEN a.requestParameters:instances:instanceGroups
    ELSE a.requestParameters:instanceGroups END)) g  -- (HyperPod's CreateCluster, EMR's AddInstanceGroups)
  WHERE a.event_source IN ('sagemaker.amazonaws.com', 'elasticmapreduce.amazonaws.com') AND g.value:instanceType IS NOT NULL
  UNION ALL
  SELECT a.event_id, FALSE, IFF(m.value::INT = 0, 1, TRY_TO_NUMBER(a.requestParameters:instances:instanceCount::STRING) - 1),
    LOWER(COALESCE(IFF(m.value::INT = 0, NULL, a.requestParameters:instances:slaveInstanceType::STRING),
      a.requestParameters:instances:masterInstanceType::STRING)), NULL
  FROM actors a, LATERAL FLATTEN(input => ARRAY_CONSTRUCT(0, 1)) m  -- (0: the master)
  WHERE a.event_name = 'RunJobFlow' AND a.requestParameters:instances:instanceGroups IS NULL
    AND a.requestParameters:instances:masterInstanceType IS NOT NULL
  UNION ALL
  SELECT a.event_id, TRUE, NULL, LOWER(t.value::STRING), NULL
  FROM actors a, LATERAL FLATTEN(input => COALESCE(a.requestParameters:instanceTypes, IFF(a.event_name = 'CreateNodegroup'
    AND a.requestParameters:launchTemplate IS NULL, PARSE_JSON('["{eks_default_type}"]'), NULL))) t
  WHERE a.event_source = 'eks.amazonaws.com'
  UNION ALL
  SELECT event_id, FALSE, COALESCE(NULLIF(ARRAY_SIZE(TO_ARRAY(requestParameters:instanceNames)), 0), 1),
    'lightsail.' || REPLACE(REPLACE(LOWER(requestParameters:bundleId::STRING), '_win_', '_'), '_ipv6_', '_'), NULL
  FROM actors WHERE event_source = 'lightsail.amazonaws.com'
  UNION ALL
  SELECT event_id, FALSE, 1, CASE WHEN UPPER(e:type::STRING) LIKE '%GPU%' THEN 'codebuild-gpu.' WHEN UPPER(e:type::STRING)
      LIKE '%ARM%' THEN 'codebuild-arm.' ELSE 'codebuild.' END || LOWER(e:computeType::STRING), NULL
  FROM (SELECT *, COALESCE(responseElements:build, responseElements:buildBatch):environment AS e FROM actors
    WHERE event_source = 'codebuild.amazonaws.com')
  UNION ALL
  SELECT event_id, FALSE, tasks, NULL, units FROM placed_tasks
  UNION ALL
  SELECT a.event_id, FALSE, 1, LOWER(i.value:instanceType::STRING),
    1024 * i.value:cpuOptions:coreCount::INT * i.value:cpuOptions:threadsPerCore::INT
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:instancesSet:items) i
  WHERE a.event_name = 'RunInstances' AND NOT a.on_behalf  -- (a group's or fleet's: the vCPU Surge query's)
),
-- Per call: what its items add up to (CPU units, accelerators, instances or tasks), and one node's price among its choices (the smallest).
call_items AS (
  SELECT event_id, SUM(IFF(choice, 0, COALESCE(item_units, item_count * 1024 * unit_vcpus))) AS fixed_units,
    SUM(IFF(choice, 0, item_count * unit_accelerators)) AS fixed_accelerators, SUM(IFF(choice, 0, item_count)) AS instances,
    MIN(IFF(choice, 1024 * unit_vcpus, NULL)) AS node_units, MIN(IFF(choice, unit_accelerators, NULL)) AS node_accelerators
  FROM (SELECT i.*, COALESCE(t.vcpus, {size_rule_vcpus}, 0) AS unit_vcpus, COALESCE(t.accelerators, 0) AS unit_accelerators
    FROM (SELECT *, SPLIT_PART(item_type, '.', 2) AS size FROM items) i LEFT JOIN instance_types t ON t.instance_type = i.item_type)
  GROUP BY event_id
),
-- The groups a call sizes (an ECS service, an EKS node group, a Batch compute environment, named as the streaming rules name
-- them), their new size (tasks, nodes, vCPUs) and one's price in CPU units: an ECS task's from the task definition named (its
-- revision, else the latest) registered before; an EKS node's, the smallest type's; on EC2 container instances (counted when
-- they launch), 0.
sized AS (
  SELECT a.*, CASE a.event_source
      WHEN 'ecs.amazonaws.com' THEN a.account_id || '/' || a.region || '/' || REGEXP_REPLACE(COALESCE(
        a.requestParameters:cluster::STRING, 'default'), '^.*/', '') || '/' || REGEXP_REPLACE(COALESCE(
        a.requestParameters:serviceName::STRING, a.requestParameters:service::STRING), '^.*/', '')
      WHEN 'eks.amazonaws.com' THEN a.account_id || '/' || a.region || '/' || COALESCE(a.requestParameters:clusterName::STRING,
        a.requestParameters:name::STRING) || '/' || a.requestParameters:nodegroupName::STRING
      ELSE a.account_id || '/' || a.region || '/' || REGEXP_REPLACE(COALESCE(a.requestParameters:computeEnvironmentName::STRING,
        a.requestParameters:computeEnvironment::STRING), '^.*/', '') END AS sized_group,
    CASE a.event_source WHEN 'batch.amazonaws.com' THEN NULLIF(GREATEST(COALESCE(TRY_TO_NUMBER(
        a.requestParameters:computeResources:desiredvCpus::STRING), -1), COALESCE(TRY_TO_NUMBER(
        a.requestParameters:computeResources:minvCpus::STRING), -1)), -1)
      ELSE COALESCE(TRY_TO_NUMBER(a.requestParameters:desiredCount::STRING), TRY_TO_NUMBER(
        a.requestParameters:scalingConfig:desiredSize::STRING), IFF(a.event_name = 'CreateNodegroup', TRY_TO_NUMBER(
        a.requestParameters:scalingConfig:minSize::STRING), NULL)) END AS new_size,
    CASE a.event_source WHEN 'ecs.amazonaws.com' THEN IFF(a.on_instances, 0, d.units) WHEN 'eks.amazonaws.com' THEN i.node_units
      ELSE 1024 END AS own_units,  -- (Batch's sizes are vCPUs)
    IFF(a.event_source = 'eks.amazonaws.com', i.node_accelerators, NULL) AS own_accelerators
  FROM (SELECT *, REGEXP_REPLACE(requestParameters:taskDefinition::STRING, '^.*task-definition/', '') AS task_ref FROM actors
    WHERE event_name IN ({sizing_calls})) a
  LEFT JOIN call_items i ON i.event_id = a.event_id
  LEFT JOIN task_definitions d ON d.family = a.account_id || '/' || a.region || '/' || SPLIT_PART(a.task_ref, ':', 1)
    AND COALESCE(TRY_TO_NUMBER(SPLIT_PART(a.task_ref, ':', 2)), d.revision) = d.revision AND d.defined_at <= a.p_event_time
  QUALIFY ROW_NUMBER() OVER (PARTITION BY a.event_id ORDER BY d.revision DESC, d.defined_at DESC) = 1
),
-- A sizing call's growth: a creation, its size; an update, what it adds to the size last given (a group not seen: all of
-- it), priced by its own task definition or types, else the group's last.
grown AS (
  SELECT event_id, IFF(event_name LIKE 'Create%', new_size, GREATEST(new_size - COALESCE(LAST_VALUE(new_size IGNORE NULLS)
      OVER (PARTITION BY sized_group ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0))
      AS growth,
    COALESCE(own_units, LAST_VALUE(own_units IGNORE NULLS) OVER (PARTITION BY sized_group ORDER BY p_event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS unit_units,
    COALESCE(own_accelerators, LAST_VALUE(own_accelerators IGNORE NULLS) OVER (PARTITION BY sized_group
      ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS unit_accelerators
  FROM sized
),
-- The ledger this query reads: each call's vCPUs (its CPU units, rounded up) and accelerators, charged to its caller.
launched AS (
  SELECT a.*, COALESCE(g.growth, i.instances, 0) AS launched_count,
    CEIL(COALESCE(g.growth * g.unit_units, i.fixed_units, 0) / 1024) AS vcpus,
    COALESCE(g.growth * g.unit_accelerators, i.fixed_accelerators, 0) AS accelerators
  FROM actors a LEFT JOIN call_items i ON i.event_id = a.event_id LEFT JOIN grown g ON g.event_id = a.event_id
  WHERE NOT a.on_behalf AND a.event_name <> 'RegisterTaskDefinition'  -- (read for its tasks' size)
),
{surge_calls}
{surge_report}
