CASE WHEN size = 'medium' THEN 1 WHEN size = 'large' THEN 2 WHEN size = 'xlarge' THEN 4
      WHEN REGEXP_LIKE(size, '^(metal-)?[0-9]+xl(arge)?$') THEN 4 * TO_NUMBER(REGEXP_SUBSTR(size, '[0-9]+')) END
