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
    -- The group or fleet a call sizes, named as the tag on its instances names it; its size: desired, else minimum; a fleet's target.
    recipientAccountId || '/' || awsRegion || '/' || COALESCE('aws:autoscaling:groupName=' || COALESCE(
      requestParameters:autoScalingGroupName::STRING, NULLIF(SPLIT_PART(SPLIT_PART(requestParameters:policyName::STRING,
        ':autoScalingGroupName/', 2), ':policyName/', 1), '')), 'aws:ec2:fleet-id=' || COALESCE(
        responseElements:CreateFleetResponse:fleetId::STRING, requestParameters:ModifyFleetRequest:FleetId::STRING),
      'aws:ec2spot:fleet-request-id=' || COALESCE(responseElements:spotFleetRequestId::STRING, requestParameters:spotFleetRequestId::STRING,
        REGEXP_SUBSTR(requestParameters:resourceId::STRING, '{spot_fleet_id}', 1, 1, 'e', 1))) AS group_key,  -- (a scaler's resource ID)
    -- A scaling policy, by its group and name (ExecutePolicy may name it by its ARN).
    group_key || '/' || COALESCE(NULLIF(SPLIT_PART(requestParameters:policyName::STRING, ':policyName/', 2), ''), requestParameters:policyName::STRING) AS policy_key,
    TRY_TO_NUMBER(requestParameters:desiredCapacity::STRING) AS desired,
    COALESCE(desired, TRY_TO_NUMBER(requestParameters:minSize::STRING), {scalable_minimum}, target_capacity) AS group_size,  -- (the maximum is headroom)
    eventSource IN ('autoscaling.amazonaws.com', 'application-autoscaling.amazonaws.com') AND eventName <> 'CreateAutoScalingGroup' AND desired IS NULL AS min_only,
    -- The launch template (or launch configuration: its version 0) a call names, the version, whether seen (template_types.sql).
    COALESCE(group_config:launchTemplate, group_config:mixedInstancesPolicy:launchTemplate:launchTemplateSpecification,
      fleet_config:LaunchTemplateSpecification, spot_config:launchTemplateConfigs[0]:launchTemplateSpecification) AS template_spec,
    COALESCE(requestParameters:launchConfigurationName::STRING, template_spec:launchTemplateId::STRING, template_spec:LaunchTemplateId::STRING,
      template_spec:launchTemplateName::STRING, template_spec:LaunchTemplateName::STRING) AS template_ref, template_ref IS NOT NULL AS names_template,
    IFF(requestParameters:launchConfigurationName IS NULL, COALESCE(NULLIF(TRIM(COALESCE(template_spec:version::STRING,
      template_spec:Version::STRING)), ''), '$Default'), '0') AS template_version, FALSE AS template_known,
    -- Instances asked for: maxCount; a fleet's target (1 in vCPUs); instanceCount; instances started again; a group's size.
    CASE WHEN eventName = 'RunInstances' THEN {run_instances_asked}
      WHEN eventName IN ('CreateFleet', 'RequestSpotFleet') THEN IFF(in_vcpus, 1, COALESCE(target_capacity, 1))
      WHEN eventName IN ('RequestSpotInstances', 'RunScheduledInstances') THEN COALESCE(TRY_TO_NUMBER(requestParameters:instanceCount::STRING), 1)
      WHEN eventName = 'StartInstances' THEN COALESCE(ARRAY_SIZE(TO_ARRAY(requestParameters:instancesSet:items)), 0)
      ELSE COALESCE(group_size, 0) END AS requested_instances,
