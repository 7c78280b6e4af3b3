-- The launch calls every query of the pack reads (generated into queries/ from
-- compute_abuse/sql_templates/; do not edit the copies). The same quantities as the streaming
-- rules' helper:
--   * launch_calls: RunInstances calls once per eventID (CloudTrail may deliver a record twice),
--     with the principal (as the streaming rules' helper names it: an Identity Center person, the
--     role or federation token's issuer, else the caller's ARN), Sentinel's actor fields, the
--     outcome, and whether a fleet service made the call on a user's behalf (counted at the
--     user's request, not again)
--   * actors: the same rows with the actor's name and UPN suffix split out, and whether the call
--     is allowlisted or a node controller's (ec2_compute_config's patterns, as the rules match
--     them: the session's or the role's ARN, the user agent; any case)
WITH launch_calls AS (
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
    COALESCE(userIdentity:sessionContext:sessionIssuer:arn::STRING, '') AS issuer_arn,
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
      AS actor_upn_suffix,
    {allowlisted} AS allowlisted,
    {capacity_controller} AS capacity_controller
  FROM launch_calls
)
