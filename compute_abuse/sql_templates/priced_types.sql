-- Capacity: per instance launched (cpuOptions' vCPUs, else the catalog's); per request or group growth, its instances of the
-- type named (of several, the smallest: vCPUs, then accelerators, as the streaming rules price it, AWS may launch any), or its
-- vCPUs. Catalog (ec2_instance_catalog): medium 1 ... Nxlarge 4N vCPUs; types it misprices or with accelerators.
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM VALUES
    {instance_type_values}
),
priced_calls AS (  -- (several: a fleet's or group's overrides, a spot fleet's specifications)
  SELECT c.* REPLACE (COALESCE(n.named_type, c.instance_type) AS instance_type)
  FROM named_calls c LEFT JOIN (SELECT n.*, SPLIT_PART(n.named_type, '.', 2) AS size FROM (
      SELECT c.event_id, LOWER(COALESCE(o.value:InstanceType::STRING, o.value:instanceType::STRING)) AS named_type FROM named_calls c,
        LATERAL FLATTEN(input => TO_ARRAY(COALESCE(c.requestParameters:CreateFleetRequest:LaunchTemplateConfigs,
          c.spot_config:launchTemplateConfigs))) f, LATERAL FLATTEN(input => TO_ARRAY(COALESCE(f.value:Overrides, f.value:overrides))) o
      UNION ALL SELECT c.event_id, LOWER(s.value:instanceType::STRING) FROM named_calls c, LATERAL FLATTEN(input => TO_ARRAY(
        COALESCE(c.spot_config:launchSpecifications, c.group_config:mixedInstancesPolicy:launchTemplate:overrides))) s) n
    LEFT JOIN instance_types t ON t.instance_type = n.named_type WHERE n.named_type IS NOT NULL
    QUALIFY ROW_NUMBER() OVER (PARTITION BY n.event_id ORDER BY COALESCE(t.vcpus, {size_rule_vcpus}) NULLS LAST,
      COALESCE(t.accelerators, 0), n.named_type) = 1) n ON n.event_id = c.event_id
),
