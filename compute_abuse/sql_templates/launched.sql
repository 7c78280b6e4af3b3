-- Capacity, for the vCPU queries: per instance a successful RunInstances or instant CreateFleet
-- launched (cpuOptions' vCPUs, else the catalog's); per successful fleet, spot or scheduled
-- request or group growth, its instances of the first type named or its vCPUs (a type only a
-- launch template names is unknown here: 0). Not a fleet service's launch: counted at the
-- request. The catalog (ec2_instance_catalog) is a rule, medium 1, large 2, xlarge 4, Nxlarge and
-- metal-Nxl 4N vCPUs, and the types it misprices or that have accelerators (a type newer than the
-- catalog is priced by the rule; the streaming rules count it 0).
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM VALUES
    {instance_type_values}
),
-- (Snowflake refuses a lateral view left of a join: flattened here, the catalog joined below.)
launched_items AS (
  SELECT
    a.*, item.value:cpuOptions AS cpu_options, 1 AS launched_count, NULL AS vcpu_capacity,
    LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type)) AS launched_type
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:instancesSet:items) item
  WHERE a.outcome = 'success' AND NOT a.on_behalf
  UNION ALL
  SELECT
    a.*, NULL, COALESCE(ARRAY_SIZE(TO_ARRAY(f.value:instanceIds:item)), 0), NULL,
    LOWER(f.value:instanceType::STRING)
  FROM actors a,
    LATERAL FLATTEN(input => TO_ARRAY(a.responseElements:CreateFleetResponse:fleetInstanceSet:item)) f
  WHERE a.outcome = 'success' AND NOT a.on_behalf
  UNION ALL
  SELECT
    a.*, NULL, a.instances, IFF(a.in_vcpus, a.target_capacity, NULL),
    COALESCE(a.group_type, a.instance_type)
  FROM actors a
  WHERE a.outcome = 'success' AND NOT a.on_behalf AND a.event_name <> 'RunInstances'
    AND COALESCE(LOWER(requestParameters:CreateFleetRequest:Type::STRING), '') <> 'instant'
),
launched AS (
  SELECT
    l.*,
    SPLIT_PART(l.launched_type, '.', 2) AS size,
    COALESCE(
      l.vcpu_capacity,
      l.cpu_options:coreCount::INT * l.cpu_options:threadsPerCore::INT,
      l.launched_count * COALESCE(
        t.vcpus,
        CASE WHEN size = 'medium' THEN 1 WHEN size = 'large' THEN 2 WHEN size = 'xlarge' THEN 4
          WHEN REGEXP_LIKE(size, '^(metal-)?[0-9]+xl(arge)?$')
            THEN 4 * TO_NUMBER(REGEXP_SUBSTR(size, '[0-9]+')) END
      ),
      0
    ) AS vcpus,
    COALESCE(t.accelerators, 0) * IFF(
      l.vcpu_capacity IS NULL, l.launched_count, CEIL(l.vcpu_capacity / NULLIF(t.vcpus, 0))::INT
    ) AS accelerators
  FROM launched_items l
  LEFT JOIN instance_types t ON t.instance_type = l.launched_type
)
