-- The accelerated rows of the instance catalog (ec2_instance_catalog): accelerators per instance.
accelerated_types (instance_type, accelerators) AS (
  SELECT * FROM (VALUES
    {accelerated_type_values}
))
