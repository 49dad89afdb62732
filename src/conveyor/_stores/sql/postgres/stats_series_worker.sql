-- The dashboard's charts of one worker: stats_series.sql for :worker alone.
WITH s AS (
  SELECT minute / %(step)s * %(step)s AS at, processed, failed, wait FROM {schema}.stats
  WHERE worker = %(worker)s AND minute >= %(since)s AND minute < %(until)s
)
SELECT at, NULL::integer, sum(processed)::bigint, sum(failed)::bigint FROM s GROUP BY at
UNION ALL
SELECT s.at, j.key::integer, sum(j.value::bigint), 0 FROM s, jsonb_each_text(s.wait) AS j GROUP BY s.at, j.key
