-- Launched instances, for the queries that count vCPUs and accelerators: one row per instance a
-- successful call launched (not on a user's behalf). vCPUs are coreCount x threadsPerCore where
-- the response has cpuOptions, else the instance catalog's (ec2_instance_catalog), written as a
-- rule and its exceptions so it reads in a screen: a size's vCPUs are medium 1, large 2, xlarge 4,
-- Nxlarge and metal-Nxl 4N; instance_types lists every type the rule misprices and every
-- accelerated type. (A type newer than the catalog is priced by the rule; the streaming rules
-- count it 0.)
instance_types (instance_type, vcpus, accelerators) AS (
  SELECT * FROM VALUES
    {instance_type_values}
),
-- (Snowflake refuses a lateral view on the left of a join: the items are flattened here, the
-- catalog joined below.)
launched_items AS (
  SELECT
    a.*,
    item.value AS item,
    LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type)) AS launched_type,
    SPLIT_PART(LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type)), '.', 2) AS size
  FROM actors a,
    LATERAL FLATTEN(input => a.responseElements:instancesSet:items) item
  WHERE a.outcome = 'success' AND NOT a.on_behalf
),
launched AS (
  SELECT
    l.*,
    COALESCE(
      l.item:cpuOptions:coreCount::INT * l.item:cpuOptions:threadsPerCore::INT,
      t.vcpus,
      CASE
        WHEN l.size = 'medium' THEN 1
        WHEN l.size = 'large' THEN 2
        WHEN l.size = 'xlarge' THEN 4
        WHEN REGEXP_LIKE(l.size, '^(metal-)?[0-9]+xl(arge)?$')
          THEN 4 * TO_NUMBER(REGEXP_SUBSTR(l.size, '[0-9]+'))
      END,
      0
    ) AS vcpus,
    COALESCE(t.accelerators, 0) AS accelerators
  FROM launched_items l
  LEFT JOIN instance_types t ON t.instance_type = l.launched_type
)
