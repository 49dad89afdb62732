-- Any runner returns expired leases to the queue (the attempt stays used) and wakes the others.
WITH r AS (
  UPDATE {schema}.messages
  SET state = 'queued', runner = NULL, lease_until = NULL,
      last_error = 'lease expired: runner ' || coalesce(runner, '?') || ' stopped renewing it on attempt '
                   || attempt || ' (the runner died or stalled)'
  WHERE state = 'running' AND lease_until < date_part('epoch', now())
  RETURNING worker
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('running', -g.k), ('queued', g.k)) AS v (state, n)
)
SELECT coalesce(sum(g.n), 0)::integer
FROM (SELECT worker, count(*) AS n, pg_notify('{channel}', worker) FROM r GROUP BY worker) AS g
