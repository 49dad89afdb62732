-- A runner's stats for one minute, all its workers together, added to the minute's total: counts add,
-- histograms add bucket by bucket.
INSERT INTO stats_totals (minute, processed, failed, retried, dead, wait, run)
VALUES (:minute, :processed, :failed, :retried, :dead, :wait, :run)
ON CONFLICT (minute) DO UPDATE SET
  processed = stats_totals.processed + excluded.processed,
  failed    = stats_totals.failed + excluded.failed,
  retried   = stats_totals.retried + excluded.retried,
  dead      = stats_totals.dead + excluded.dead,
  wait      = (SELECT json_group_object(key, n) FROM (
                 SELECT key, sum(value) AS n FROM (
                   SELECT key, value FROM json_each(stats_totals.wait)
                   UNION ALL SELECT key, value FROM json_each(excluded.wait))
                 GROUP BY key)),
  run       = (SELECT json_group_object(key, n) FROM (
                 SELECT key, sum(value) AS n FROM (
                   SELECT key, value FROM json_each(stats_totals.run)
                   UNION ALL SELECT key, value FROM json_each(excluded.run))
                 GROUP BY key))
