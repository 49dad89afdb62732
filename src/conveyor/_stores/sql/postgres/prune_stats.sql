-- Remove at most %(limit)s stats rows, and at most %(limit)s minutes' totals, of minutes older than
-- %(keep)s seconds, the oldest first; rows another runner is removing are skipped. Returns how many.
WITH gone AS (
  DELETE FROM {schema}.stats
  WHERE (minute, worker) IN (SELECT minute, worker FROM {schema}.stats
                             WHERE minute < date_part('epoch', now()) - %(keep)s
                             ORDER BY minute LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  RETURNING 1
), gone_totals AS (
  DELETE FROM {schema}.stats_totals
  WHERE minute IN (SELECT minute FROM {schema}.stats_totals
                   WHERE minute < date_part('epoch', now()) - %(keep)s
                   ORDER BY minute LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT ((SELECT count(*) FROM gone) + (SELECT count(*) FROM gone_totals))::integer
