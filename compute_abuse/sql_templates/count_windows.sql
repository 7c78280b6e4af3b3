-- HighInstanceCount's windows, per UTC day: the principal's, a source IP's (across principals
-- and accounts; IP addresses only) and an account's (across principals), each with its threshold.
count_windows (ord, window_kind, threshold) AS (SELECT * FROM (VALUES
    {count_windows}
)),
