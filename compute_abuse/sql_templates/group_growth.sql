policies AS (  -- PutScalingPolicy: a simple or step policy's adjustment (its largest step's, none below 0) for ExecutePolicy
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
      BY group_key, run ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 30)) AS ratio
  FROM (SELECT *, COUNT(IFF(outcome = 'success' AND kind = 'size', 1, NULL)) OVER (PARTITION BY group_key
      ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run FROM (
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
      run ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), 6)), NULL) AS size_after
  FROM (SELECT *, SUM(IFF(outcome = 'success' AND kind = 'change', adjustment / ratio, 0)) OVER (PARTITION BY
    group_key, run ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS added FROM group_runs)
),
-- A call's growth: its size (what a refused call would have made it) less the size before; a refresh to
-- another type than the group's: its size (to the same type, to its own configuration, to an unknown template: 0).
group_growth AS (
  SELECT event_id, LEAST(IFF(event_name IN ({group_creates}), new_size,
      GREATEST(CASE kind WHEN 'change' THEN size_before + adjustment WHEN 'percent'  -- (a creation: all new)
        THEN CEIL(ROUND(size_before * (1 + adjustment / 100), 6)) WHEN 'refresh' THEN size_before * IFF(instance_type
          IN ('unknown-type', type_before), 1, 2) ELSE new_size END - size_before, 0)), 1e9)::INT
      AS growth,  -- (1e9 and e^30 above: bounds for absurd sizes)
    MAX(IFF(in_vcpus, 1, 0)) OVER (PARTITION BY group_key) = 1 AS group_in_vcpus,
    -- A template not seen defined at the version named: 0 per instance; defined of no type: the group's last type.
    IFF(names_template AND instance_type = 'unknown-type' AND NOT template_known, NULL, LAST_VALUE(
      IFF(outcome = 'success', NULLIF(instance_type, 'unknown-type'), NULL)) IGNORE NULLS OVER (PARTITION BY group_key
        ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS group_type
  FROM (SELECT *, COALESCE(LAST_VALUE(size_after) IGNORE NULLS OVER (PARTITION BY group_key
    ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS size_before,
    LAST_VALUE(IFF(outcome = 'success', NULLIF(instance_type, 'unknown-type'), NULL)) IGNORE NULLS OVER (PARTITION
      BY group_key ORDER BY p_event_time, call_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS type_before
    FROM group_sizes)
),
actors AS (  -- (a node controller's resize of a group or fleet grows it for no one; a fleet in vCPUs: 1 instance, its vCPUs asked)
  SELECT c.*, {allowlisted} AS allowlisted, {capacity_controller} AS capacity_controller, g.group_type, g.group_in_vcpus,
    capacity_controller AND g.growth > 0 AND c.event_name NOT IN ({group_creates}) AS for_no_one,
    IFF(for_no_one, 0, g.growth) AS growth, IFF(for_no_one, 0, IFF(g.group_in_vcpus AND g.growth IS NOT NULL, SIGN(g.growth),
      COALESCE(g.growth, c.requested_instances))) AS instances, IFF(c.in_vcpus, c.target_capacity, IFF(g.group_in_vcpus,
      IFF(for_no_one, 0, g.growth), NULL)) AS asked_vcpus
  FROM launch_calls c LEFT JOIN group_growth g ON g.event_id = c.event_id
  WHERE p_occurs_since('{lookback}') AND c.event_name <> 'PutScalingPolicy'  -- read for its policy
)
