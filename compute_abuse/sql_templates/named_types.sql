named_types AS (  -- every type a call names of several: fleets' and groups' overrides, a spot fleet's specifications
  SELECT c.event_id, LOWER(COALESCE(o.value:InstanceType::STRING, o.value:instanceType::STRING)) AS named_type FROM named_calls c,
    LATERAL FLATTEN(input => TO_ARRAY(COALESCE(c.requestParameters:CreateFleetRequest:LaunchTemplateConfigs,
      c.spot_config:launchTemplateConfigs))) f, LATERAL FLATTEN(input => TO_ARRAY(COALESCE(f.value:Overrides, f.value:overrides))) o
  UNION ALL SELECT c.event_id, LOWER(s.value:instanceType::STRING) FROM named_calls c, LATERAL FLATTEN(input => TO_ARRAY(
    COALESCE(c.spot_config:launchSpecifications, c.group_config:mixedInstancesPolicy:launchTemplate:overrides))) s
),
