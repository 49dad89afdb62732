-- Remove at most %(limit)s expired outcomes, the oldest expiries first; rows another runner is removing
-- are skipped.
WITH gone AS (
  DELETE FROM {schema}.results
  WHERE message_id IN (SELECT message_id FROM {schema}.results
                       WHERE expires_at <= date_part('epoch', now())
                       ORDER BY expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT count(*)::integer FROM gone
