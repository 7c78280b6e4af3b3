-- Calls read (successes; refusals too where attempts count), allowlisted callers (ec2_compute_config), ECS calls on EC2
-- container instances (launch type EC2 or EXTERNAL, capacity providers none Fargate's: counted when they launch). The
-- definition defined or named (source/account/region/name, no ARN prefix or Lambda qualifier; ECS or Batch revision), units of
-- it (a Batch array's jobs, provisioned Lambda environments, one endpoint or Amplify build).
actors AS (
  SELECT *, event_source || '/' || account_id || '/' || region || '/' || SPLIT_PART(ref, ':', 1) AS named,
    IFF(event_source = 'lambda.amazonaws.com', NULL, TRY_TO_NUMBER(SPLIT_PART(ref, ':', 2))) AS named_revision
  FROM (SELECT c.*, {allowlisted} AS allowlisted, COALESCE(UPPER(requestParameters:launchType::STRING) IN ('EC2', 'EXTERNAL'),
      requestParameters:capacityProviderStrategy IS NOT NULL
        AND UPPER(TO_JSON(requestParameters:capacityProviderStrategy)) NOT LIKE '%"FARGATE%') AS on_instances,
    REGEXP_REPLACE(COALESCE(responseElements:taskDefinition:taskDefinitionArn::STRING, responseElements:jobDefinitionArn::STRING,
      responseElements:app:appId::STRING, requestParameters:taskDefinition::STRING, requestParameters:jobDefinition::STRING,
      requestParameters:functionName::STRING, requestParameters:endpointConfigName::STRING, requestParameters:appId::STRING),
      '^(.*(task|job)-definition/|(arn:[^:]*:lambda:[^:]*:)?([0-9]{12}:)?function:)', '') AS ref,
    CASE WHEN event_name = 'SubmitJob' THEN GREATEST(COALESCE(TRY_TO_NUMBER(requestParameters:arrayProperties:size::STRING), 1), 1)
      WHEN event_name IN ('CreateEndpoint', 'UpdateEndpoint', 'StartJob') THEN 1
      ELSE TRY_TO_NUMBER(requestParameters:provisionedConcurrentExecutions::STRING) END AS named_count,
    {definition_calls} AS is_definition
    FROM launch_calls c WHERE {outcomes_read})
)
