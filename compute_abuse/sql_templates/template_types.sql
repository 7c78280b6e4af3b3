template_versions AS (  -- launch template versions, launch configurations (version 0), default versions set
  SELECT account_id || '/' || region AS template_place, p_event_time AS defined_at, event_id AS defined_by,
    COALESCE(t:launchTemplateId::STRING, requestParameters:launchConfigurationName::STRING) AS template_id,
    t:launchTemplateName::STRING AS template_name, IFF(event_name = 'ModifyLaunchTemplate', NULL, COALESCE(
      TRY_TO_NUMBER(t:versionNumber::STRING), IFF(event_name = 'CreateLaunchTemplate', 1, 0))) AS defined_version,
    TRY_TO_NUMBER(COALESCE(t:defaultVersionNumber::STRING, d:SetDefaultVersion::STRING)) AS default_set,
    TRY_TO_NUMBER(d:SourceVersion::STRING) AS source_version,
    LOWER(COALESCE(requestParameters:instanceType::STRING, d:LaunchTemplateData:InstanceType::STRING)) AS defined_type
  FROM (SELECT *, COALESCE(responseElements:CreateLaunchTemplateResponse:launchTemplate,
      responseElements:ModifyLaunchTemplateResponse:launchTemplate, responseElements:CreateLaunchTemplateVersionResponse:launchTemplateVersion) AS t,
      COALESCE(requestParameters:CreateLaunchTemplateRequest, requestParameters:CreateLaunchTemplateVersionRequest,
        requestParameters:ModifyLaunchTemplateRequest) AS d
    FROM named_calls WHERE outcome = 'success' AND event_name IN ({template_calls}))
),
typed_versions AS (  -- a version of no type of its own has its source version's (one level, not a chain of copies)
  SELECT v.* REPLACE (COALESCE(v.defined_type, s.defined_type) AS defined_type)
  FROM template_versions v LEFT JOIN template_versions s ON s.template_place = v.template_place
    AND s.template_id = v.template_id AND s.defined_version = v.source_version AND s.defined_at <= v.defined_at
  QUALIFY ROW_NUMBER() OVER (PARTITION BY v.defined_by ORDER BY s.defined_at DESC, s.defined_by DESC) = 1
),
-- A call naming a template and no type: the type of the version it names as defined before it ($Latest: the
-- highest; $Default: the default last set, else the lowest). Not read: deletions, attribute-based types.
launch_calls AS (
  SELECT * REPLACE (IFF(instance_type = 'unknown-type' AND defined_version = wanted,
    COALESCE(defined_type, instance_type), instance_type) AS instance_type, COALESCE(defined_version = wanted, FALSE) AS template_known)
  FROM (SELECT c.*, v.*, CASE c.template_version WHEN '$Latest' THEN MAX(v.defined_version) OVER (PARTITION BY c.event_id)
      WHEN '$Default' THEN COALESCE(LAST_VALUE(v.default_set) IGNORE NULLS OVER (PARTITION BY c.event_id ORDER BY v.defined_at,
        v.defined_by ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), MIN(v.defined_version) OVER (PARTITION BY c.event_id))
      ELSE TRY_TO_NUMBER(c.template_version) END AS wanted
    FROM {typed_calls} c LEFT JOIN typed_versions v ON v.template_place = c.account_id || '/' || c.region
      AND c.template_ref IN (v.template_id, v.template_name) AND v.defined_at <= c.p_event_time
    WHERE c.event_name NOT IN ({template_calls}))
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY IFF(defined_version = wanted, 0, 1), defined_at DESC, defined_by DESC) = 1
),
