{launch_calls},
{accelerated_types},
-- Instances of every group an EMR cluster or a HyperPod cluster names.
group_counts AS (
  SELECT a.event_id, SUM(TRY_TO_NUMBER(g.value:instanceCount::STRING)) AS instances
  FROM actors a,
    LATERAL FLATTEN(input => TO_ARRAY(COALESCE(
      a.requestParameters:instanceGroups, a.requestParameters:instances:instanceGroups
    ))) g
  GROUP BY a.event_id
),
accelerated_families AS (
  SELECT DISTINCT SPLIT_PART(instance_type, '.', 1) AS family FROM accelerated_types
),
-- Compute asked of the other services: the first instance type (SageMaker's ml.* types are the
-- EC2 types of the same name), bundle, build compute type or launch type a call names, and how
-- many (instances, nodes, tasks; Batch's vCPUs; Application Auto Scaling's minimums of ECS
-- services and Spot Fleets; 1 where the call names no count). A type or
-- family (Batch names families) of the catalog's accelerated rows is accelerated.
service_calls AS (
  SELECT
    a.*,
    SPLIT_PART(a.event_source, '.', 1) AS service,
    LOWER(REGEXP_REPLACE(COALESCE(
      requestParameters:resourceConfig:instanceType::STRING,
      requestParameters:processingResources:clusterConfig:instanceType::STRING,
      requestParameters:transformResources:instanceType::STRING,
      requestParameters:trainingJobDefinition:resourceConfig:instanceType::STRING,
      requestParameters:resourceSpec:instanceType::STRING,
      requestParameters:instanceGroups[0]:instanceType::STRING,
      requestParameters:instances:instanceGroups[0]:instanceType::STRING,
      requestParameters:instances:slaveInstanceType::STRING,
      requestParameters:instanceTypes[0]::STRING,
      requestParameters:computeResources:instanceTypes[0]::STRING,
      requestParameters:instanceType::STRING,
      requestParameters:bundleId::STRING,
      requestParameters:computeTypeOverride::STRING,
      requestParameters:launchType::STRING,
      'unknown'
    ), '^ml[.]', '')) AS named_type,
    COALESCE(
      TRY_TO_NUMBER(requestParameters:resourceConfig:instanceCount::STRING),
      TRY_TO_NUMBER(requestParameters:processingResources:clusterConfig:instanceCount::STRING),
      TRY_TO_NUMBER(requestParameters:transformResources:instanceCount::STRING),
      c.instances,
      TRY_TO_NUMBER(requestParameters:instances:instanceCount::STRING),
      TRY_TO_NUMBER(requestParameters:scalingConfig:desiredSize::STRING),
      TRY_TO_NUMBER(requestParameters:computeResources:desiredvCpus::STRING),
      TRY_TO_NUMBER(requestParameters:computeResources:maxvCpus::STRING),
      TRY_TO_NUMBER(requestParameters:desiredCount::STRING),
      TRY_TO_NUMBER(requestParameters:count::STRING),
      TRY_TO_NUMBER(requestParameters:provisionedConcurrentExecutions::STRING),
      {scalable_minimum},
      IFF(event_source = 'application-autoscaling.amazonaws.com', 0, NULL),  -- (a maximum alone)
      ARRAY_SIZE(TO_ARRAY(requestParameters:instanceNames)),
      1
    ) AS asked
  FROM actors a
  LEFT JOIN group_counts c ON c.event_id = a.event_id
)
-- Hunting: per principal and service, what it asked for, accelerated types first. Pivot: a
-- principal new to a service, GPUs in a region the account does not use, refusals before a launch.
SELECT
  s.principal, s.account_id, s.service,
  COUNT(*) AS calls,
  SUM(CASE WHEN s.outcome = 'success' THEN 0 ELSE 1 END) AS refused_or_dry_run,
  SUM(s.asked) AS asked,
  SUM(CASE WHEN t.accelerators IS NULL AND f.family IS NULL THEN 0 ELSE s.asked END)
    AS accelerated_asked,
  ARRAY_AGG(DISTINCT s.event_name) WITHIN GROUP (ORDER BY s.event_name) AS event_names,
  ARRAY_AGG(DISTINCT s.named_type) WITHIN GROUP (ORDER BY s.named_type) AS named_types,
  ARRAY_AGG(DISTINCT s.region) WITHIN GROUP (ORDER BY s.region) AS regions,
  MIN(s.p_event_time) AS first_call, MAX(s.p_event_time) AS last_call
FROM service_calls s
LEFT JOIN accelerated_types t ON t.instance_type = s.named_type
LEFT JOIN accelerated_families f ON f.family = s.named_type
GROUP BY s.principal, s.account_id, s.service
ORDER BY accelerated_asked DESC, asked DESC, s.principal, s.account_id, s.service
