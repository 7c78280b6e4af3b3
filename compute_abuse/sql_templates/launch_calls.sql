-- Read by every query (generated into queries/ from compute_abuse/sql_templates/; do not edit
-- the copies). launch_calls: EC2 launch calls and auto scaling group sizes, once per eventID, with
-- the principal (an Identity Center person, the role or token's issuer, else the caller's ARN),
-- the caller's and issuer's ARNs, the outcome, the first type named, the instances asked for, and
-- whether a fleet service made the call for someone (on_behalf); group sizes over {group_lookback}
-- whatever the lookback. group_growth: a group's new size less its size before (creating is all
-- growth), and its type; actors: the lookback's calls, instances counted.
WITH launch_calls AS (
  SELECT
    eventID AS event_id, eventSource AS event_source, eventName AS event_name, p_event_time, p_parse_time,
    eventTime AS event_time, awsRegion AS region, recipientAccountId AS account_id,
    sourceIPAddress AS source_ip, userAgent AS user_agent, requestParameters, responseElements,
    COALESCE(
      CASE WHEN STARTSWITH(userIdentity:sessionContext:sessionIssuer:userName::STRING, 'AWSReservedSSO_')
        THEN 'identity-center-user:' || COALESCE(userIdentity:onBehalfOf:userId::STRING,
          LOWER(REGEXP_SUBSTR(userIdentity:arn::STRING, '[^/]*$'))) END,
      userIdentity:sessionContext:sessionIssuer:arn::STRING, userIdentity:arn::STRING,
      resources[0]:arn::STRING, 'unknown'
    ) AS principal,
    COALESCE(userIdentity:arn::STRING, resources[0]:arn::STRING, '') AS actor_arn,
    COALESCE(userIdentity:sessionContext:sessionIssuer:arn::STRING, '') AS issuer_arn,
    CASE WHEN errorCode IS NULL THEN 'success' WHEN errorCode LIKE '%DryRunOperation' THEN 'dry_run'
      ELSE 'failure' END AS outcome,
    COALESCE(errorCode, '') AS error_code,
    -- CloudTrail writes a one-item list of CreateFleet's as the bare item: TO_ARRAY reads both.
    LOWER(COALESCE(
      requestParameters:instanceType:value::STRING,  -- RunInstances; a resize's new type:
      requestParameters:instanceType::STRING,
      IFF(requestParameters:attribute::STRING = 'instanceType', requestParameters:value::STRING, NULL),
      requestParameters:launchSpecification:instanceType::STRING,
      TO_ARRAY(TO_ARRAY(requestParameters:CreateFleetRequest:LaunchTemplateConfigs)[0]:Overrides)[0]:InstanceType::STRING,
      requestParameters:spotFleetRequestConfig:launchSpecifications[0]:instanceType::STRING,
      requestParameters:spotFleetRequestConfig:launchTemplateConfigs[0]:overrides[0]:instanceType::STRING,
      requestParameters:mixedInstancesPolicy:launchTemplate:overrides[0]:instanceType::STRING,
      responseElements:instancesSet:items[0]:instanceType::STRING,
      'unknown-type'
    )) AS instance_type,
    -- A fleet's target capacity (created or modified, an EC2 or a spot fleet), whether in vCPUs.
    TRY_TO_NUMBER(COALESCE(
      requestParameters:CreateFleetRequest:TargetCapacitySpecification:TotalTargetCapacity::STRING,
      requestParameters:ModifyFleetRequest:TargetCapacitySpecification:TotalTargetCapacity::STRING,
      requestParameters:spotFleetRequestConfig:targetCapacity::STRING,
      requestParameters:targetCapacity::STRING
    )) AS target_capacity,
    LOWER(COALESCE(
      requestParameters:CreateFleetRequest:TargetCapacitySpecification:TargetCapacityUnitType::STRING,
      requestParameters:spotFleetRequestConfig:targetCapacityUnitType::STRING
    )) = 'vcpu' AS in_vcpus,
    COALESCE(LOWER(requestParameters:CreateFleetRequest:Type::STRING), '') = 'instant' AS instant_fleet,
    -- The group or fleet a call sizes, named as the tag AWS puts on its instances names it, and
    -- its size: a group's desired, else minimum (the maximum is headroom); a fleet's target.
    recipientAccountId || '/' || awsRegion || '/' || COALESCE(
      'aws:autoscaling:groupName=' || requestParameters:autoScalingGroupName::STRING,
      'aws:ec2:fleet-id=' || COALESCE(responseElements:CreateFleetResponse:fleetId::STRING,
        requestParameters:ModifyFleetRequest:FleetId::STRING),
      'aws:ec2spot:fleet-request-id=' || COALESCE(responseElements:spotFleetRequestId::STRING,
        requestParameters:spotFleetRequestId::STRING)) AS group_key,
    COALESCE(
      TRY_TO_NUMBER(requestParameters:desiredCapacity::STRING),
      TRY_TO_NUMBER(requestParameters:minSize::STRING), target_capacity
    ) AS group_size,
    COALESCE(requestParameters:launchTemplate, requestParameters:launchConfigurationName,
      requestParameters:mixedInstancesPolicy:launchTemplate) IS NOT NULL AS names_template,
    -- Instances asked for: RunInstances' maxCount; a fleet's target capacity (1 when in vCPUs);
    -- instanceCount; the size given a group.
    CASE
      WHEN eventName = 'RunInstances' THEN COALESCE(
        TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:maxCount::STRING),
        TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:minCount::STRING),
        1
      )
      WHEN eventName IN ('CreateFleet', 'RequestSpotFleet')
        THEN IFF(in_vcpus, 1, COALESCE(target_capacity, 1))
      WHEN eventName IN ('RequestSpotInstances', 'RunScheduledInstances')
        THEN COALESCE(TRY_TO_NUMBER(requestParameters:instanceCount::STRING), 1)
      WHEN eventName = 'StartInstances'  -- stopped instances back; a resize asks for none (0)
        THEN COALESCE(ARRAY_SIZE(TO_ARRAY(requestParameters:instancesSet:items)), 0)
      ELSE COALESCE(group_size, 0)
    END AS requested_instances,
    COALESCE(userIdentity:invokedBy::STRING, '') IN ({fleet_services})
      OR sourceIPAddress IN ({fleet_services}) AS on_behalf
  FROM panther_logs.public.aws_cloudtrail
  WHERE (p_occurs_since('{lookback}')
      OR eventName IN ({sizing_calls})
        AND p_occurs_since('{group_lookback}'))
    AND ({launch_events})
    AND (eventName <> 'ModifyInstanceAttribute' OR requestParameters:instanceType IS NOT NULL
      OR requestParameters:attribute::STRING = 'instanceType')
  QUALIFY ROW_NUMBER() OVER (PARTITION BY eventID ORDER BY p_event_time) = 1
),
-- A call that gives a group its size starts a run; a new minimum alone raises a group, never
-- lowers it: a group's size after a call is the largest given it in the run (not refused).
group_runs AS (
  SELECT *, COUNT(IFF(outcome = 'success' AND NOT min_only, 1, NULL)) OVER (PARTITION BY group_key
    ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
  FROM (SELECT *, event_source = 'autoscaling.amazonaws.com' AND event_name <> 'CreateAutoScalingGroup'
    AND TRY_TO_NUMBER(requestParameters:desiredCapacity::STRING) IS NULL AS min_only FROM launch_calls)
  WHERE group_size IS NOT NULL AND group_key IS NOT NULL
),
group_growth AS (
  SELECT
    event_id,
    IFF(
      event_name IN ('CreateAutoScalingGroup', 'CreateFleet', 'RequestSpotFleet'),  -- all new
      group_size,
      GREATEST(group_size - COALESCE(LAST_VALUE(size_after IGNORE NULLS) OVER (PARTITION BY
        group_key ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)
    ) AS growth,
    MAX(IFF(in_vcpus, 1, 0)) OVER (PARTITION BY group_key) = 1 AS group_in_vcpus,
    -- A template's types are unknown here, as to the streaming rules until they see it.
    IFF(names_template AND instance_type = 'unknown-type', NULL, LAST_VALUE(
      IFF(outcome = 'success', NULLIF(instance_type, 'unknown-type'), NULL) IGNORE NULLS) OVER (
        PARTITION BY group_key ORDER BY p_event_time, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS group_type
  FROM (SELECT *, IFF(outcome = 'success', MAX(IFF(outcome = 'success', group_size, NULL)) OVER (
      PARTITION BY group_key, run ORDER BY p_event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), NULL) AS size_after FROM group_runs)
),
actors AS (
  SELECT
    c.*,
    -- (a fleet in vCPUs grows in vCPUs: 1 instance, as its request counts)
    IFF(g.group_in_vcpus AND g.growth IS NOT NULL, SIGN(g.growth),
      COALESCE(g.growth, c.requested_instances)) AS instances, g.growth, g.group_type, g.group_in_vcpus,
    {allowlisted} AS allowlisted,
    {capacity_controller} AS capacity_controller
  FROM launch_calls c
  LEFT JOIN group_growth g ON g.event_id = c.event_id
  WHERE p_occurs_since('{lookback}')
)
