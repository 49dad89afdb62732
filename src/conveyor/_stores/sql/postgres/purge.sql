-- Counted in the same statement (count_deltas: see migrations/0002_counts.sql). Also returns the ids of
-- the members of groups deleted (they leave their groups in the same transaction).
WITH r AS (
  DELETE FROM {schema}.messages WHERE worker = %s AND state = 'queued'
  RETURNING id, worker, state, group_id
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, -count(*) FROM r GROUP BY worker, state
)
SELECT count(*)::integer, coalesce(array_agg(id) FILTER (WHERE group_id IS NOT NULL), ARRAY[]::bigint[]) FROM r
