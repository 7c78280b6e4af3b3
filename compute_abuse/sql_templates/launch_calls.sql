-- Read by every query (generated from compute_abuse/sql_templates/: edit those). EC2 launch calls and group sizes (over
-- {group_lookback}), once per eventID, with the principal (an Identity Center person, the role or token's issuer, else the
-- caller's ARN), whether a fleet service called for someone (on_behalf).
WITH {named_calls} AS (
  SELECT eventID AS event_id, eventSource AS event_source, eventName AS event_name, p_event_time, p_parse_time,
    eventTime AS event_time, awsRegion AS region, recipientAccountId AS account_id,
    sourceIPAddress AS source_ip, userAgent AS user_agent, requestParameters, responseElements,
    COALESCE(CASE WHEN STARTSWITH(userIdentity:sessionContext:sessionIssuer:userName::STRING, 'AWSReservedSSO_')
      THEN 'identity-center-user:' || COALESCE(userIdentity:onBehalfOf:userId::STRING,
        LOWER(REGEXP_SUBSTR(userIdentity:arn::STRING, '[^/]*$'))) END,
      userIdentity:sessionContext:sessionIssuer:arn::STRING, userIdentity:arn::STRING,
      resources[0]:arn::STRING, 'unknown') AS principal,
    COALESCE(userIdentity:arn::STRING, resources[0]:arn::STRING, '') AS actor_arn,
    COALESCE(userIdentity:sessionContext:sessionIssuer:arn::STRING, '') AS issuer_arn,
    CASE WHEN errorCode IS NULL THEN 'success' WHEN errorCode LIKE '%DryRunOperation' THEN 'dry_run' ELSE 'failure' END AS outcome,
    COALESCE(errorCode, '') AS error_code,
    -- The type: RunInstances', a resize's, a request's, a fleet's or group's first override (TO_ARRAY: a one-item list is bare).
    TO_ARRAY(requestParameters:CreateFleetRequest:LaunchTemplateConfigs)[0] AS fleet_config,
    requestParameters:spotFleetRequestConfig AS spot_config,  -- (a refresh's group: its desired configuration)
    COALESCE(requestParameters:desiredConfiguration, requestParameters) AS group_config,
    LOWER(COALESCE(requestParameters:instanceType:value::STRING, requestParameters:instanceType::STRING,
      IFF(requestParameters:attribute::STRING = 'instanceType', requestParameters:value::STRING, NULL),
      requestParameters:launchSpecification:instanceType::STRING, TO_ARRAY(fleet_config:Overrides)[0]:InstanceType::STRING,
      spot_config:launchSpecifications[0]:instanceType::STRING, spot_config:launchTemplateConfigs[0]:overrides[0]:instanceType::STRING,
      group_config:mixedInstancesPolicy:launchTemplate:overrides[0]:instanceType::STRING,
      responseElements:instancesSet:items[0]:instanceType::STRING, 'unknown-type')) AS instance_type,
    -- A fleet's target capacity (created or modified, an EC2 or a spot fleet), whether in vCPUs.
    TRY_TO_NUMBER(COALESCE(requestParameters:CreateFleetRequest:TargetCapacitySpecification:TotalTargetCapacity::STRING,
      requestParameters:ModifyFleetRequest:TargetCapacitySpecification:TotalTargetCapacity::STRING,
      spot_config:targetCapacity::STRING, requestParameters:targetCapacity::STRING)) AS target_capacity,
    LOWER(COALESCE(requestParameters:CreateFleetRequest:TargetCapacitySpecification:TargetCapacityUnitType::STRING,
      spot_config:targetCapacityUnitType::STRING)) = 'vcpu' AS in_vcpus,
    COALESCE(LOWER(requestParameters:CreateFleetRequest:Type::STRING), '') = 'instant' AS instant_fleet,
    -- The group or fleet a call sizes, named as the tag AWS puts on its instances names it, and
    -- its size: a group's desired, else minimum (the maximum is headroom); a fleet's target.
    recipientAccountId || '/' || awsRegion || '/' || COALESCE('aws:autoscaling:groupName=' || COALESCE(
      requestParameters:autoScalingGroupName::STRING, NULLIF(SPLIT_PART(SPLIT_PART(requestParameters:policyName::STRING,
        ':autoScalingGroupName/', 2), ':policyName/', 1), '')), 'aws:ec2:fleet-id=' || COALESCE(
        responseElements:CreateFleetResponse:fleetId::STRING, requestParameters:ModifyFleetRequest:FleetId::STRING),
      'aws:ec2spot:fleet-request-id=' || COALESCE(responseElements:spotFleetRequestId::STRING,
        requestParameters:spotFleetRequestId::STRING)) AS group_key,
    -- A scaling policy, by its group and name (ExecutePolicy may name it by its ARN).
    group_key || '/' || COALESCE(NULLIF(SPLIT_PART(requestParameters:policyName::STRING, ':policyName/', 2), ''), requestParameters:policyName::STRING) AS policy_key,
    TRY_TO_NUMBER(requestParameters:desiredCapacity::STRING) AS desired,
    COALESCE(desired, TRY_TO_NUMBER(requestParameters:minSize::STRING), target_capacity) AS group_size,
    eventSource = 'autoscaling.amazonaws.com' AND eventName <> 'CreateAutoScalingGroup' AND desired IS NULL AS min_only,
    -- The launch template (or launch configuration: its version 0) a call names, the version, whether seen (template_types.sql).
    COALESCE(group_config:launchTemplate, group_config:mixedInstancesPolicy:launchTemplate:launchTemplateSpecification,
      fleet_config:LaunchTemplateSpecification, spot_config:launchTemplateConfigs[0]:launchTemplateSpecification) AS template_spec,
    COALESCE(requestParameters:launchConfigurationName::STRING, template_spec:launchTemplateId::STRING,
      template_spec:LaunchTemplateId::STRING, template_spec:launchTemplateName::STRING,
      template_spec:LaunchTemplateName::STRING) AS template_ref, template_ref IS NOT NULL AS names_template,
    IFF(requestParameters:launchConfigurationName IS NULL, COALESCE(NULLIF(TRIM(COALESCE(template_spec:version::STRING,
      template_spec:Version::STRING)), ''), '$Default'), '0') AS template_version, FALSE AS template_known,
    -- Instances asked for: maxCount; a fleet's target (1 in vCPUs); instanceCount; instances started again; a group's size.
    CASE WHEN eventName = 'RunInstances' THEN COALESCE(TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:maxCount::STRING),
        TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:minCount::STRING), 1)
      WHEN eventName IN ('CreateFleet', 'RequestSpotFleet') THEN IFF(in_vcpus, 1, COALESCE(target_capacity, 1))
      WHEN eventName IN ('RequestSpotInstances', 'RunScheduledInstances')
        THEN COALESCE(TRY_TO_NUMBER(requestParameters:instanceCount::STRING), 1)
      WHEN eventName = 'StartInstances' THEN COALESCE(ARRAY_SIZE(TO_ARRAY(requestParameters:instancesSet:items)), 0)
      ELSE COALESCE(group_size, 0) END AS requested_instances,
    COALESCE(userIdentity:invokedBy::STRING, '') IN ({fleet_services})
      OR sourceIPAddress IN ({fleet_services}) AS on_behalf
  FROM panther_logs.public.aws_cloudtrail
  WHERE {calls_since}
    AND ({launch_events})
    AND (eventName <> 'ModifyInstanceAttribute' OR requestParameters:instanceType IS NOT NULL OR requestParameters:attribute::STRING = 'instanceType')
  QUALIFY ROW_NUMBER() OVER (PARTITION BY eventID ORDER BY p_event_time) = 1
),
{template_types}-- PutScalingPolicy: a simple or step policy's adjustment (its largest step's, none below 0) that ExecutePolicy applies.
policies AS (
  SELECT c.policy_key, c.p_event_time AS put_at, c.event_id, GREATEST(MAX(a.adjustment), 0) AS adjustment,
    COALESCE(c.requestParameters:adjustmentType::STRING, 'ChangeInCapacity') AS adjustment_type
  FROM launch_calls c JOIN (
    SELECT event_id, TRY_TO_NUMBER(requestParameters:scalingAdjustment::STRING) AS adjustment
    FROM launch_calls WHERE event_name = 'PutScalingPolicy' UNION ALL SELECT event_id, TRY_TO_NUMBER(
      s.value:scalingAdjustment::STRING) FROM launch_calls, LATERAL FLATTEN(input => requestParameters:stepAdjustments) s
  ) a ON a.event_id = c.event_id AND a.adjustment IS NOT NULL
  WHERE c.event_name = 'PutScalingPolicy' AND c.outcome = 'success' GROUP BY 1, 2, 3, 5
),
-- A group's sizing calls by kind: a size (an exact capacity too) starts a run; in it a minimum raises the group, never lowers
-- it; ExecutePolicy adds instances (change) or a percentage (ratio: the run's product so far). A size after: ratio * (added +
-- the run's largest size or minimum, each over its ratio less the added before it; the first run's from 0), rounded up: no
-- recursion (Snowflake stops one at 100 steps; docs/data-lake.md).
group_runs AS (
  SELECT *, EXP(LEAST(SUM(IFF(outcome = 'success' AND kind = 'percent', LN(1 + adjustment / 100), 0)) OVER (PARTITION
      BY group_key, run ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 30)) AS ratio
  FROM (SELECT *, COUNT(IFF(outcome = 'success' AND kind = 'size', 1, NULL)) OVER (PARTITION BY group_key
      ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run FROM (
    SELECT c.*, p.adjustment, IFF(p.adjustment_type = 'ExactCapacity', p.adjustment, c.group_size) AS new_size,
      CASE p.adjustment_type WHEN 'PercentChangeInCapacity' THEN 'percent' WHEN 'ExactCapacity' THEN 'size'
        ELSE IFF(p.adjustment_type IS NOT NULL, 'change', IFF(c.event_name = 'StartInstanceRefresh', 'refresh',
          IFF(c.min_only, 'minimum', 'size'))) END AS kind
    FROM launch_calls c LEFT JOIN policies p ON c.event_name = 'ExecutePolicy' AND p.policy_key = c.policy_key AND p.put_at <= c.p_event_time
    QUALIFY ROW_NUMBER() OVER (PARTITION BY c.event_id ORDER BY p.put_at DESC, p.event_id DESC) = 1
  ) WHERE (new_size IS NOT NULL OR kind IN ('change', 'percent', 'refresh')) AND group_key IS NOT NULL)
),
group_sizes AS (
  SELECT *, IFF(outcome = 'success', CEIL(ROUND(ratio * (added + MAX(IFF(outcome = 'success' AND kind
      IN ('size', 'minimum'), new_size / ratio - added, IFF(run = 0, 0, NULL))) OVER (PARTITION BY group_key,
      run ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), 6)), NULL) AS size_after
  FROM (SELECT *, SUM(IFF(outcome = 'success' AND kind = 'change', adjustment / ratio, 0)) OVER (PARTITION BY
    group_key, run ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS added FROM group_runs)
),
-- A call's growth: its size (what a refused call would have made it) less the size before; a refresh to
-- another type than the group's: its size (to the same type, to its own configuration, to an unknown template: 0).
group_growth AS (
  SELECT event_id, LEAST(IFF(event_name IN ('CreateAutoScalingGroup', 'CreateFleet', 'RequestSpotFleet'), new_size,
      GREATEST(CASE kind WHEN 'change' THEN size_before + adjustment WHEN 'percent'  -- (a creation: all new)
        THEN CEIL(ROUND(size_before * (1 + adjustment / 100), 6)) WHEN 'refresh' THEN size_before * IFF(instance_type
          IN ('unknown-type', type_before), 1, 2) ELSE new_size END - size_before, 0)), 1e9)::INT
      AS growth,  -- (1e9 and e^30 above: bounds for absurd sizes)
    MAX(IFF(in_vcpus, 1, 0)) OVER (PARTITION BY group_key) = 1 AS group_in_vcpus,
    -- A template not seen defined at the version named: 0 per instance; defined of no type: the group's last type.
    IFF(names_template AND instance_type = 'unknown-type' AND NOT template_known, NULL, LAST_VALUE(
      IFF(outcome = 'success', NULLIF(instance_type, 'unknown-type'), NULL) IGNORE NULLS) OVER (PARTITION BY group_key
        ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS group_type
  FROM (SELECT *, COALESCE(LAST_VALUE(size_after IGNORE NULLS) OVER (PARTITION BY group_key
    ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS size_before,
    LAST_VALUE(IFF(outcome = 'success', NULLIF(instance_type, 'unknown-type'), NULL) IGNORE NULLS) OVER (PARTITION
      BY group_key ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS type_before
    FROM group_sizes)
),
actors AS (
  SELECT c.*, g.growth, g.group_type, g.group_in_vcpus,  -- (a fleet in vCPUs grows in vCPUs: 1 instance, as its request counts)
    IFF(g.group_in_vcpus AND g.growth IS NOT NULL, SIGN(g.growth), COALESCE(g.growth, c.requested_instances)) AS instances,
    {allowlisted} AS allowlisted, {capacity_controller} AS capacity_controller
  FROM launch_calls c LEFT JOIN group_growth g ON g.event_id = c.event_id
  WHERE p_occurs_since('{lookback}') AND c.event_name <> 'PutScalingPolicy'  -- read for its policy
)
