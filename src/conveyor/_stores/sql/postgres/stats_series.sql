-- The dashboard's charts, every worker together: per step of :step seconds from minute :since on, the
-- runs finished and failed (bucket NULL), and the step's wait histogram merged in SQL (one row per
-- bucket index: its count in the processed column), read from the minutes' totals (one row a minute).
WITH s AS (
  SELECT minute / %(step)s * %(step)s AS at, processed, failed, wait FROM {schema}.stats_totals
  WHERE minute >= %(since)s AND minute < %(until)s
)
SELECT at, NULL::integer, sum(processed)::bigint, sum(failed)::bigint FROM s GROUP BY at
UNION ALL
SELECT s.at, j.key::integer, sum(j.value::bigint), 0 FROM s, jsonb_each_text(s.wait) AS j GROUP BY s.at, j.key
