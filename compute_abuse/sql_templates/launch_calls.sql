-- Generated from compute_abuse/sql_templates/ (edit those). Launch calls and group sizes ({group_lookback}) once per eventID, with the
-- principal (an Identity Center person, the role or token's issuer, else the caller's ARN), whether a service called for someone.
WITH {named_calls} AS (
  SELECT eventID AS event_id, eventSource AS event_source, eventName AS event_name, p_event_time, p_parse_time,
    eventTime AS event_time, awsRegion AS region, recipientAccountId AS account_id,
    sourceIPAddress AS source_ip, userAgent AS user_agent, requestParameters, responseElements,
    COALESCE(CASE WHEN STARTSWITH(userIdentity:sessionContext:sessionIssuer:userName::STRING, 'AWSReservedSSO_')
      THEN 'identity-center-user:' || COALESCE(userIdentity:onBehalfOf:userId::STRING,
        LOWER(REGEXP_SUBSTR(userIdentity:arn::STRING, '[^/]*$'))) END,
      userIdentity:sessionContext:sessionIssuer:arn::STRING, userIdentity:arn::STRING,
      resources[0]:arn::STRING, 'unknown') AS principal,
    COALESCE(userIdentity:arn::STRING, resources[0]:arn::STRING, '') AS actor_arn,
    COALESCE(userIdentity:sessionContext:sessionIssuer:arn::STRING, '') AS issuer_arn,
    CASE WHEN errorCode IS NULL THEN 'success' WHEN errorCode LIKE '%DryRunOperation' THEN 'dry_run' ELSE 'failure' END AS outcome,
    COALESCE(errorCode, '') AS error_code,
{launch_columns}    COALESCE(userIdentity:invokedBy::STRING, '') IN ({fleet_services})
      OR sourceIPAddress IN ({fleet_services}) AS on_behalf,
    IFF(on_behalf, '1', '0') || eventID AS call_order  -- (a group's sizes: in one second, a person's call before a service's)
  FROM panther_logs.public.aws_cloudtrail
  WHERE {calls_since}
    AND ({launch_events})
  {typed_resizes_only}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY eventID ORDER BY p_event_time) = 1
),
{named_types}{priced_types}{template_types}{actors}
