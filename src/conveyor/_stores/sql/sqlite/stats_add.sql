-- A runner's stats for one (minute, worker), added to the row: counts add, histograms add bucket by bucket.
INSERT INTO stats (minute, worker, processed, failed, retried, dead, wait, run)
VALUES (:minute, :worker, :processed, :failed, :retried, :dead, :wait, :run)
ON CONFLICT (minute, worker) DO UPDATE SET
  processed = stats.processed + excluded.processed,
  failed    = stats.failed + excluded.failed,
  retried   = stats.retried + excluded.retried,
  dead      = stats.dead + excluded.dead,
  wait      = (SELECT json_group_object(key, n) FROM (
                 SELECT key, sum(value) AS n FROM (
                   SELECT key, value FROM json_each(stats.wait)
                   UNION ALL SELECT key, value FROM json_each(excluded.wait))
                 GROUP BY key)),
  run       = (SELECT json_group_object(key, n) FROM (
                 SELECT key, sum(value) AS n FROM (
                   SELECT key, value FROM json_each(stats.run)
                   UNION ALL SELECT key, value FROM json_each(excluded.run))
                 GROUP BY key))
