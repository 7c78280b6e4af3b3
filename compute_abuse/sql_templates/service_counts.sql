{count_windows_cte}
-- The instances each call asks for, in HighInstanceCount's windows: attempts refused too (RunInstances' maxCount, as asked);
-- not dry runs, node controllers' launches or allowlisted callers'. (Tasks, jobs, Studio apps, Lambda, CodeBuild and Amplify
-- builds are counted by their vCPUs only: not read.) Listed by the first type the call names.
counted AS (
  SELECT w.ord, w.window_kind, w.threshold, CASE w.window_kind WHEN 'principal' THEN l.principal WHEN 'source IP' THEN l.source_ip
      ELSE l.account_id END AS grouped_value, l.*,
    IFF(l.event_name = 'RunInstances', {run_instances_asked}, l.launched_count) AS instances,
    COALESCE(t.item_type, 'unknown-type') AS instance_type, COALESCE(l.requestParameters:subnetId::STRING, '') AS subnet_id
  FROM launched l CROSS JOIN count_windows w LEFT JOIN (SELECT event_id, MIN(item_type) AS item_type FROM items GROUP BY event_id) t
    ON t.event_id = l.event_id
  WHERE NOT l.allowlisted AND NOT {capacity_controller} AND (w.window_kind <> 'source IP' OR {is_ip_address})
){count_crossings}
{count_report}