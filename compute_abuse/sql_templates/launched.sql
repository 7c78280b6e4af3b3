service_refs AS (  -- the groups and fleets a fleet service launched for, by its instances' tags, the most specific first (rank)
  SELECT DISTINCT a.event_id, a.p_event_time AS launched_at, a.account_id || '/' || a.region || '/'
      || t.value:key::STRING || '=' || t.value:value::STRING AS ref,
    POSITION(t.value:key::STRING, '{owner_tags}') AS rank
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:instancesSet:items) i,
    LATERAL FLATTEN(input => i.value:tagSet:items) t
  WHERE a.on_behalf AND a.outcome = 'success' AND t.value:key::STRING IN ({owner_tag_list})
),
launched_items AS (  -- (Snowflake refuses a lateral view left of a join: flattened here, the catalog joined below)
  SELECT a.*, item.value:cpuOptions AS cpu_options, 1 AS launched_count, NULL AS vcpu_capacity,
    LOWER(COALESCE(item.value:instanceType::STRING, a.instance_type)) AS launched_type,
    item.value:instanceId::STRING AS instance_id  -- StartInstances' too: priced by their launch
  FROM actors a, LATERAL FLATTEN(input => a.responseElements:instancesSet:items) item WHERE a.outcome = 'success'
  UNION ALL
  SELECT a.*, NULL, COALESCE(ARRAY_SIZE(TO_ARRAY(f.value:instanceIds:item)), 0), NULL, LOWER(f.value:instanceType::STRING), NULL
  FROM actors a, LATERAL FLATTEN(input => TO_ARRAY(a.responseElements:CreateFleetResponse:fleetInstanceSet:item)) f
  WHERE a.outcome = 'success' AND NOT a.on_behalf
  UNION ALL
  SELECT a.*, NULL, IFF(a.event_name = 'ModifyInstanceAttribute', 1, a.instances), a.asked_vcpus, COALESCE(a.group_type, a.instance_type), NULL
  FROM actors a WHERE a.outcome = 'success' AND NOT a.on_behalf AND a.event_name NOT IN ('RunInstances', 'StartInstances') AND NOT a.instant_fleet
),
priced AS (
  SELECT l.* REPLACE (COALESCE(k.launched_type, l.launched_type) AS launched_type, COALESCE(k.cpu_options, l.cpu_options) AS cpu_options),
    SPLIT_PART(COALESCE(k.launched_type, l.launched_type), '.', 2) AS size,
    COALESCE(t.vcpus, {size_rule_vcpus}, 0) AS unit_vcpus,
    COALESCE(t.accelerators, 0) AS unit_accelerators, COALESCE(l.vcpu_capacity, COALESCE(k.cpu_options, l.cpu_options):coreCount::INT
      * COALESCE(k.cpu_options, l.cpu_options):threadsPerCore::INT, l.launched_count * unit_vcpus) AS vcpus,
    COALESCE(CEIL(l.vcpu_capacity / NULLIF(unit_vcpus, 0)), l.launched_count) AS instances_priced,  -- (vCPUs: as many of its type)
    unit_accelerators * instances_priced AS accelerators
  FROM launched_items l
  LEFT JOIN launched_items k ON l.event_name = 'StartInstances' AND k.event_name = 'RunInstances' AND k.instance_id = l.instance_id
  LEFT JOIN instance_types t ON t.instance_type = COALESCE(k.launched_type, l.launched_type)
),
-- A service's launch for a group or fleet: charged to the owner whose sizing call (up to 5 minutes after it: clock skew) was the
-- latest, for what each instance adds over that call's price per instance (a fleet in vCPUs paid all; a decoy cannot hide what
-- launched). No owner (an instant fleet's): not counted. A call of no known type owns in full its launches within {unpriced_seconds} s.
owners AS (
  SELECT s.event_id, o.principal, o.actor_arn, o.allowlisted,
    o.in_vcpus OR o.unit_vcpus = 0 AND s.launched_at > DATEADD(second, {unpriced_seconds}, o.p_event_time) AS prepaid,
    IFF(prepaid, 1e9, o.unit_vcpus) AS floor_vcpus, IFF(prepaid, 1e9, o.unit_accelerators) AS floor_accelerators
  FROM service_refs s
  JOIN priced o ON s.ref = o.group_key AND o.p_event_time <= DATEADD(second, 300, s.launched_at) AND NOT o.instant_fleet
  QUALIFY ROW_NUMBER() OVER (PARTITION BY s.event_id ORDER BY s.rank, o.p_event_time DESC, o.event_id DESC) = 1
),
launched AS (
  SELECT p.* REPLACE (COALESCE(o.principal, p.principal) AS principal, COALESCE(o.actor_arn, p.actor_arn) AS actor_arn,
    p.allowlisted OR COALESCE(o.allowlisted, FALSE) AS allowlisted, IFF(p.on_behalf, 0, p.instances_priced) AS launched_count,
    IFF(p.on_behalf, GREATEST(p.vcpus - o.floor_vcpus, 0), p.vcpus) AS vcpus,
    IFF(p.on_behalf, GREATEST(p.accelerators - o.floor_accelerators, 0), p.accelerators) AS accelerators)
  FROM priced p LEFT JOIN owners o ON o.event_id = p.event_id WHERE NOT p.on_behalf OR o.event_id IS NOT NULL
)
