-- Remove at most %(limit)s stats rows of minutes older than %(keep)s seconds, the oldest first; rows
-- another runner is removing are skipped.
WITH gone AS (
  DELETE FROM {schema}.stats
  WHERE (minute, worker) IN (SELECT minute, worker FROM {schema}.stats
                             WHERE minute < date_part('epoch', now()) - %(keep)s
                             ORDER BY minute LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT count(*)::integer FROM gone
