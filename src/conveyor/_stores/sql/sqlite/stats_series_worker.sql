-- The dashboard's charts of one worker: stats_series.sql for :worker alone (through stats_worker).
WITH s AS (
  SELECT minute / :step * :step AS at, processed, failed, wait FROM stats INDEXED BY stats_worker
  WHERE worker = :worker AND minute >= :since AND minute < :until
)
SELECT at, NULL, sum(processed), sum(failed) FROM s GROUP BY at
UNION ALL
SELECT s.at, CAST(j.key AS INTEGER), sum(j.value), 0 FROM s, json_each(s.wait) AS j GROUP BY s.at, j.key
