-- A window crosses at the call taking it over its threshold; not (as in the streaming rule) a source IP's or account's of one
-- principal, a principal's longer span while a shorter one is over. One alert per call (its first window), by the next run.
SELECT * EXCLUDE (ord, event_id, own_vcpus, last_arrival, shorter_over)
FROM (SELECT *, MAX(IFF(window_kind = 'principal' AND total_vcpus > threshold, 1, 0)) OVER (PARTITION BY event_id
    ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS shorter_over FROM ended)
WHERE total_vcpus > threshold AND total_vcpus - own_vcpus <= threshold
  AND IFF(window_kind = 'principal', COALESCE(shorter_over, 0) = 0, ARRAY_SIZE(principals) > 1)
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ord) = 1
  AND last_arrival >= {last_run}
  {service_calls_only}
ORDER BY total_vcpus DESC, window_kind, grouped_value, span, event_id
