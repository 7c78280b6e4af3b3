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
{template_types}{actors}
