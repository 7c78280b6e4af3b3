-- What a call asks for, item by item (count, type or CPU units): SageMaker's jobs (a tuning job's times its parallel jobs),
-- notebooks, apps, HyperPod, endpoint configs (ml.*: EC2 types), EMR groups (older shape: master, instanceCount - 1 core), Lightsail,
-- CodeBuild, Amplify, Batch jobs' overrides, Fargate tasks, RunInstances. Choices (EKS's, EMR fleets', Batch's): the smallest.
items AS (
  SELECT event_id, FALSE AS choice, parallel * COALESCE(TRY_TO_NUMBER(item:instanceCount::STRING),
      TRY_TO_NUMBER(item:initialInstanceCount::STRING), 1) AS item_count,
    REGEXP_REPLACE(LOWER(item:instanceType::STRING), '^ml[.]', '') AS item_type, NULL AS item_units
  FROM (SELECT a.event_id, a.event_name, COALESCE(g.value:resourceConfig, g.value) AS item, COALESCE(TRY_TO_NUMBER(
      a.requestParameters:hyperParameterTuningJobConfig:resourceLimits:maxParallelTrainingJobs::STRING), 1) AS parallel
    FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(CASE a.event_name
      WHEN 'CreateTrainingJob' THEN COALESCE(a.requestParameters:resourceConfig:instanceGroups, a.requestParameters:resourceConfig)
      WHEN 'CreateHyperParameterTuningJob' THEN COALESCE(a.requestParameters:trainingJobDefinition:resourceConfig:instanceGroups,
        a.requestParameters:trainingJobDefinition:resourceConfig, a.requestParameters:trainingJobDefinitions)
      WHEN 'CreateProcessingJob' THEN a.requestParameters:processingResources:clusterConfig
      WHEN 'CreateTransformJob' THEN a.requestParameters:transformResources WHEN 'CreateNotebookInstance' THEN a.requestParameters
      WHEN 'CreateApp' THEN a.requestParameters:resourceSpec WHEN 'RunJobFlow' THEN a.requestParameters:instances:instanceGroups
      WHEN 'CreateEndpointConfig' THEN a.requestParameters:productionVariants
      ELSE a.requestParameters:instanceGroups END)) g  -- (HyperPod's CreateCluster, EMR's Add/ModifyInstanceGroups)
    WHERE a.event_source IN ('sagemaker.amazonaws.com', 'elasticmapreduce.amazonaws.com'))
  WHERE item:instanceType IS NOT NULL OR event_name = 'ModifyInstanceGroups' AND TRY_TO_NUMBER(item:instanceCount::STRING) >= 0
  UNION ALL SELECT a.event_id, FALSE, IFF(m.value::INT = 0, 1, TRY_TO_NUMBER(a.requestParameters:instances:instanceCount::STRING) - 1),
    LOWER(COALESCE(IFF(m.value::INT = 0, NULL, a.requestParameters:instances:slaveInstanceType::STRING),
      a.requestParameters:instances:masterInstanceType::STRING)), NULL
  FROM actors a, LATERAL FLATTEN(input => ARRAY_CONSTRUCT(0, 1)) m  -- (0: the master)
  WHERE a.event_name = 'RunJobFlow' AND a.requestParameters:instances:instanceGroups IS NULL
    AND a.requestParameters:instances:masterInstanceType IS NOT NULL
  UNION ALL SELECT a.event_id, TRUE, NULL, LOWER(t.value::STRING), NULL
  FROM actors a, LATERAL FLATTEN(input => COALESCE(a.requestParameters:instanceTypes, a.requestParameters:computeResources:instanceTypes,
    IFF(a.event_name = 'CreateNodegroup' AND a.requestParameters:launchTemplate IS NULL, PARSE_JSON('["{eks_default_type}"]'), NULL))) t
  WHERE a.event_source IN ('eks.amazonaws.com', 'batch.amazonaws.com')  -- (a Batch environment's types or families: node_units)
  UNION ALL SELECT a.event_id, TRUE, NULL, LOWER(c.value:instanceType::STRING), NULL  -- (EMR fleets: types named; next, units: nodes)
  FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(COALESCE(a.requestParameters:instances:instanceFleets,
    a.requestParameters:instanceFleet))) f, LATERAL FLATTEN(input => TO_ARRAY(f.value:instanceTypeConfigs)) c
  WHERE a.event_name IN ('RunJobFlow', 'AddInstanceFleet')
  UNION ALL SELECT a.event_id, TRUE, COALESCE(TRY_TO_NUMBER(f.value:targetOnDemandCapacity::STRING), 0)
    + COALESCE(TRY_TO_NUMBER(f.value:targetSpotCapacity::STRING), 0), NULL, NULL
  FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(COALESCE(a.requestParameters:instances:instanceFleets,
    a.requestParameters:instanceFleet))) f
  WHERE a.event_name IN ('RunJobFlow', 'AddInstanceFleet', 'ModifyInstanceFleet')
    AND COALESCE(TRY_TO_NUMBER(f.value:targetOnDemandCapacity::STRING), TRY_TO_NUMBER(f.value:targetSpotCapacity::STRING)) >= 0
  UNION ALL SELECT event_id, FALSE, COALESCE(NULLIF(ARRAY_SIZE(TO_ARRAY(requestParameters:instanceNames)), 0), 1),
    'lightsail.' || REPLACE(REPLACE(LOWER(requestParameters:bundleId::STRING), '_win_', '_'), '_ipv6_', '_'), NULL
  FROM actors WHERE event_source = 'lightsail.amazonaws.com'
  UNION ALL SELECT event_id, FALSE, 1, CASE WHEN UPPER(e:type::STRING) LIKE '%GPU%' THEN 'codebuild-gpu.' WHEN UPPER(e:type::STRING)
      LIKE '%ARM%' THEN 'codebuild-arm.' ELSE 'codebuild.' END || LOWER(e:computeType::STRING), NULL
  FROM (SELECT *, COALESCE(responseElements:build, responseElements:buildBatch):environment AS e FROM actors
    WHERE event_source = 'codebuild.amazonaws.com')
  UNION ALL SELECT event_id, FALSE, 1, 'amplify.' || compute, NULL FROM (SELECT event_id, LOWER(COALESCE(
      requestParameters:jobConfig:buildComputeType::STRING, responseElements:app:jobConfig:buildComputeType::STRING,
      IFF(event_name = 'CreateApp', '{amplify_default}', NULL))) AS compute FROM actors
    WHERE event_source = 'amplify.amazonaws.com' AND is_definition) WHERE compute IS NOT NULL  -- (CreateApp: the default)
  UNION ALL SELECT a.event_id, FALSE, a.named_count, NULL, a.named_count * {vcpu_units}
  FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(a.requestParameters:containerOverrides:resourceRequirements)) part
  WHERE a.event_name = 'SubmitJob' AND UPPER(part.value:type::STRING) = 'VCPU'
  UNION ALL SELECT a.event_id, FALSE, 1, NULL, {cpu_units}  -- (ECS tasks placed on Fargate, each its CPU units)
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:tasks) part
  WHERE a.event_name IN ('RunTask', 'StartTask') AND NOT a.on_instances
  UNION ALL SELECT a.event_id, FALSE, 1, LOWER(i.value:instanceType::STRING),
    1024 * i.value:cpuOptions:coreCount::INT * i.value:cpuOptions:threadsPerCore::INT
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:instancesSet:items) i
  WHERE a.event_name = 'RunInstances' AND NOT a.on_behalf  -- (a group's or fleet's: the vCPU Surge query's)
)
