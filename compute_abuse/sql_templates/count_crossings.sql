,
-- Where each day crossed: at the call that took it to its threshold. Not a crossing (as in the streaming rule): a
-- source IP's or account's day of one principal (whose own day told it). A call crossing several: one alert, the first's.
crossings AS (
  SELECT window_kind || '/' || grouped_value || '/' || p_event_time::DATE AS bucket
  FROM (SELECT *, SUM(instances) OVER (PARTITION BY ord, grouped_value, p_event_time::DATE ORDER BY p_event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, MIN(principal) OVER (PARTITION BY ord, grouped_value,
      p_event_time::DATE ORDER BY p_event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS lowest_principal,
    MAX(principal) OVER (PARTITION BY ord, grouped_value, p_event_time::DATE ORDER BY p_event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS highest_principal FROM counted)
  WHERE running >= threshold AND running - instances < threshold AND (window_kind = 'principal' OR lowest_principal <> highest_principal)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ord) = 1
)