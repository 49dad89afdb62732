-- Counted in the same statement (count_deltas: see migrations/0002_counts.sql).
WITH r AS (
  UPDATE {schema}.messages AS m
  SET state = 'queued', run_at = date_part('epoch', now()) + u.delay, attempt = greatest(m.attempt - 1, 0),
      snoozes = m.snoozes + 1,
      runner = NULL, lease_until = NULL
  FROM unnest(%(ids)s::bigint[], %(delays)s::float8[]) AS u (id, delay)
  WHERE m.id = u.id AND m.state = 'running' AND m.runner = %(runner)s
  RETURNING m.worker
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('running', -g.k), ('queued', g.k)) AS v (state, n)
)
SELECT count(*)::integer FROM r
