-- Counted in the same statement (count_deltas: see migrations/0002_counts.sql).
WITH r AS (
  DELETE FROM {schema}.messages
  WHERE state = 'dead' AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
    AND (%(worker)s::text IS NULL OR worker = %(worker)s::text)
  RETURNING worker, state
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, -count(*) FROM r GROUP BY worker, state
)
SELECT count(*)::integer FROM r
