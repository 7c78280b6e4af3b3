-- Capacity: per instance launched (cpuOptions' vCPUs, else the catalog's); per request or group growth, its instances of the
-- type named (of several, the smallest: vCPUs, then accelerators, as the streaming rules price it, AWS may launch any), or its
-- vCPUs. Catalog (ec2_instance_catalog): medium 1 ... Nxlarge 4N vCPUs; types it misprices or with accelerators.
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM (VALUES
    {instance_type_values}
)),
priced_calls AS (
  SELECT c.* REPLACE (COALESCE(n.named_type, c.instance_type) AS instance_type) FROM named_calls c LEFT JOIN (
    SELECT n.*, SPLIT_PART(n.named_type, '.', 2) AS size FROM named_types n LEFT JOIN instance_types t ON t.instance_type = n.named_type
    QUALIFY ROW_NUMBER() OVER (PARTITION BY n.event_id ORDER BY COALESCE(t.vcpus, {size_rule_vcpus}) NULLS LAST,
      COALESCE(t.accelerators, 0), n.named_type) = 1) n ON n.event_id = c.event_id
),
