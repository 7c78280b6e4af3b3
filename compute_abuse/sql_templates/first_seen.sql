{launch_calls},
{service_items},
-- New terms, as Splunk's and Datadog's new-term rules: a value of {term_column} seen in an account
-- now and never before in the lookback. Every call counts, refused and dry runs too: a stolen
-- key's first refused GPU launch is the news. EC2's calls by the types they name; the other
-- services' by the types their items name (service_items.sql: SageMaker's ml.* as EC2's, EMR's,
-- EKS's, Batch's types or families; Lightsail's, CodeBuild's, Amplify's sizes); of none: unknown.
terms AS (  -- (a call naming several types: a row for each)
  SELECT *, {term} AS term, SPLIT_PART(event_source, '.', 1) AS service
  FROM (SELECT a.* REPLACE (COALESCE(n.named_type, a.instance_type) AS instance_type)
      FROM actors a LEFT JOIN named_types n ON n.event_id = a.event_id
      WHERE a.event_source IN ({ec2_sources}) AND a.event_name <> 'PutScalingPolicy'  -- (read for its policy)
    UNION ALL SELECT a.* REPLACE (COALESCE(i.item_type, 'unknown-type') AS instance_type)
      FROM actors a LEFT JOIN items i ON i.event_id = a.event_id AND i.item_type IS NOT NULL
      WHERE a.event_source NOT IN ({ec2_sources}))
  WHERE {term_filter}
)
SELECT
  account_id,
  term AS {term_column},
  MIN(p_event_time) AS first_seen,
  MAX(p_event_time) AS last_seen,
  COUNT(DISTINCT event_id) AS launch_calls,
  ARRAY_AGG(DISTINCT principal) WITHIN GROUP (ORDER BY principal) AS principals,
  ARRAY_AGG(DISTINCT region) WITHIN GROUP (ORDER BY region) AS regions,
  ARRAY_AGG(DISTINCT service) WITHIN GROUP (ORDER BY service) AS services,
  ARRAY_AGG(DISTINCT instance_type) WITHIN GROUP (ORDER BY instance_type) AS instance_types,
  ARRAY_AGG(DISTINCT outcome) WITHIN GROUP (ORDER BY outcome) AS outcomes,
  ARRAY_AGG(DISTINCT source_ip) WITHIN GROUP (ORDER BY source_ip) AS source_ips,
  ARRAY_AGG(DISTINCT event_id) WITHIN GROUP (ORDER BY event_id) AS event_ids
FROM terms
GROUP BY account_id, term
-- {new_meaning}
HAVING {new}
ORDER BY first_seen DESC, account_id, term
