-- The dashboard's charts, every worker together: per step of :step seconds from minute :since on, the
-- runs finished and failed (bucket NULL), and the step's wait histogram merged in SQL (one row per
-- bucket index: its count in the processed column), read from the minutes' totals (one row a minute).
WITH s AS (SELECT minute / :step * :step AS at, processed, failed, wait FROM stats_totals WHERE minute >= :since AND minute < :until)
SELECT at, NULL, sum(processed), sum(failed) FROM s GROUP BY at
UNION ALL
SELECT s.at, CAST(j.key AS INTEGER), sum(j.value), 0 FROM s, json_each(s.wait) AS j GROUP BY s.at, j.key
