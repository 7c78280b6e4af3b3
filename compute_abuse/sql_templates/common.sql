-- Shared by every query of the pack; generated from compute_abuse/sql_templates/ (do not edit
-- the copies in queries/). The same quantities as the streaming rules' helper:
--   * catalog: default vCPUs and accelerators of every EC2 instance type (ec2_instance_catalog)
--   * launch_calls: RunInstances calls once per eventID (CloudTrail may deliver a record twice),
--     with the principal (as the streaming rules' helper names it: an Identity Center person, the
--     role or federation token's issuer, else the caller's ARN), Sentinel's actor fields, the outcome, and whether a fleet service made the call on a
--     user's behalf (counted at the user's request, not again)
--   * launched: one row per instance a successful call launched (not on a user's behalf), with
--     vCPUs = coreCount x threadsPerCore, else the catalog's default
--   * requested: per call, the sum over instancesSet.items of maxCount (else minCount, else 1)
WITH catalog (instance_type, vcpus, accelerators) AS (
  SELECT * FROM VALUES
    {catalog_values}
),
launch_calls AS (
  SELECT
    eventID AS event_id,
    p_event_time,
    p_parse_time,
    eventTime AS event_time,
    awsRegion AS region,
    recipientAccountId AS account_id,
    sourceIPAddress AS source_ip,
    userAgent AS user_agent,
    requestParameters,
    responseElements,
    COALESCE(
      CASE WHEN STARTSWITH(userIdentity:sessionContext:sessionIssuer:userName::STRING, 'AWSReservedSSO_')
        THEN 'identity-center-user:' || COALESCE(
          userIdentity:onBehalfOf:userId::STRING,
          LOWER(REGEXP_SUBSTR(userIdentity:arn::STRING, '[^/]*$'))
        )
      END,
      userIdentity:sessionContext:sessionIssuer:arn::STRING,
      userIdentity:arn::STRING,
      resources[0]:arn::STRING,
      'unknown'
    ) AS principal,
    COALESCE(userIdentity:arn::STRING, resources[0]:arn::STRING, '') AS actor_arn,
    CASE
      WHEN userIdentity:principalId::STRING = 'Anonymous' THEN 'Anonymous'
      ELSE COALESCE(
        NULLIF(userIdentity:userName::STRING, ''),
        REGEXP_SUBSTR(COALESCE(userIdentity:arn::STRING, resources[0]:arn::STRING, ''), '[^/]*$'),
        ''
      )
    END AS actor_user_name,
    CASE
      WHEN errorCode IS NULL THEN 'success'
      WHEN errorCode LIKE '%DryRunOperation' THEN 'dry_run'
      ELSE 'failure'
    END AS outcome,
    COALESCE(errorCode, '') AS error_code,
    LOWER(COALESCE(
      requestParameters:instanceType:value::STRING,
      requestParameters:instanceType::STRING,
      responseElements:instancesSet:items[0]:instanceType::STRING,
      'unknown-type'
    )) AS instance_type,
    COALESCE(
      requestParameters:subnetId::STRING,
      requestParameters:networkInterfaceSet:items[0]:subnetId::STRING,
      responseElements:instancesSet:items[0]:subnetId::STRING,
      ''
    ) AS subnet_id,
    COALESCE(userIdentity:invokedBy::STRING, '') IN ({fleet_services})
      OR sourceIPAddress IN ({fleet_services}) AS on_behalf
  FROM panther_logs.public.aws_cloudtrail
  WHERE p_occurs_since('{lookback}')
    AND eventSource = 'ec2.amazonaws.com'
    AND eventName = 'RunInstances'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY eventID ORDER BY p_event_time) = 1
),
actors AS (
  SELECT
    *,
    SPLIT_PART(actor_user_name, '@', 1) AS actor_name,
    CASE WHEN CONTAINS(actor_user_name, '@') THEN SPLIT_PART(actor_user_name, '@', 2) ELSE '' END
      AS actor_upn_suffix
  FROM launch_calls
),
launched_items AS (
  SELECT a.*, item.value AS item
  FROM actors a,
    LATERAL FLATTEN(input => a.responseElements:instancesSet:items) item
  WHERE a.outcome = 'success' AND NOT a.on_behalf
),
-- (Snowflake refuses a lateral view on the left of a join: the items are flattened above, the
-- catalog joined here.)
launched AS (
  SELECT
    l.*,
    LOWER(COALESCE(l.item:instanceType::STRING, l.instance_type)) AS launched_type,
    COALESCE(
      l.item:cpuOptions:coreCount::INT * l.item:cpuOptions:threadsPerCore::INT,
      c.vcpus,
      0
    ) AS vcpus,
    COALESCE(c.accelerators, 0) AS accelerators
  FROM launched_items l
  LEFT JOIN catalog c
    ON c.instance_type = LOWER(COALESCE(l.item:instanceType::STRING, l.instance_type))
)
