-- Any runner returns expired leases to the queue (the attempt stays used), writes a trace with outcome
-- 'lost' for each of those runs (its runner died or stalled and can write none; pruned to the worker's
-- keep by its next settle), and wakes the others.
WITH expired AS (
  SELECT id, runner FROM {schema}.messages
  WHERE state = 'running' AND lease_until < date_part('epoch', now())
  FOR UPDATE
), r AS (
  UPDATE {schema}.messages AS m
  SET state = 'queued', runner = NULL, lease_until = NULL,
      last_error = 'lease expired: runner ' || coalesce(e.runner, '?') || ' stopped renewing it on attempt '
                   || m.attempt || ' (the runner died or stalled)'
  FROM expired AS e
  WHERE m.id = e.id AND m.state = 'running'
  RETURNING m.id, m.worker, m.event, m.attempt, m.enqueued_at, m.started_at, m.last_error
), traced AS (
  INSERT INTO {schema}.traces (message_id, worker, outcome, event, result, error, traceback, logs, emitted,
                               attempt, enqueued_at, started_at, finished_at)
  SELECT id, worker, 'lost', event, NULL, last_error, NULL, '[]', '[]', attempt, enqueued_at,
         coalesce(started_at, date_part('epoch', now())), date_part('epoch', now())
  FROM r
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('running', -g.k), ('queued', g.k)) AS v (state, n)
)
SELECT coalesce(sum(g.n), 0)::integer
FROM (SELECT worker, count(*) AS n, pg_notify('{channel}', worker) FROM r GROUP BY worker) AS g
