-- The calls that succeeded, whether their caller is allowlisted (ec2_compute_config), whether an ECS call places its tasks
-- on EC2 container instances (launch type EC2 or EXTERNAL, or capacity providers and none Fargate's: counted when the
-- instances launch; runs_on_instances).
actors AS (
  SELECT c.*, {allowlisted} AS allowlisted, COALESCE(UPPER(requestParameters:launchType::STRING) IN ('EC2', 'EXTERNAL'),
      requestParameters:capacityProviderStrategy IS NOT NULL
        AND UPPER(TO_JSON(requestParameters:capacityProviderStrategy)) NOT LIKE '%"FARGATE%') AS on_instances
  FROM launch_calls c WHERE c.outcome = 'success'
)
