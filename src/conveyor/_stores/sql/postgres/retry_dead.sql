-- Queue dead letters again with fresh attempts. A dead letter whose key is live again (queued or
-- running), or that shares its key with an older dead letter retried here, stays dead (SQLite: OR IGNORE).
WITH r AS (
  UPDATE {schema}.messages AS m
  SET state = 'queued', attempt = 0, snoozes = 0, run_at = date_part('epoch', now())
  WHERE m.state = 'dead' AND (%(id)s::bigint IS NULL OR m.id = %(id)s::bigint)
    AND (%(worker)s::text IS NULL OR m.worker = %(worker)s::text)
    AND (m.key IS NULL
         OR (NOT EXISTS (SELECT 1 FROM {schema}.messages AS o
                         WHERE o.key = m.key AND o.state IN ('queued', 'running'))
             AND m.id = (SELECT min(d.id) FROM {schema}.messages AS d
                         WHERE d.key = m.key AND d.state = 'dead'
                           AND (%(id)s::bigint IS NULL OR d.id = %(id)s::bigint)
                           AND (%(worker)s::text IS NULL OR d.worker = %(worker)s::text))))
  RETURNING m.worker
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('dead', -g.k), ('queued', g.k)) AS v (state, n)
)
SELECT coalesce(sum(g.n), 0)::integer
FROM (SELECT worker, count(*) AS n, pg_notify('{channel}', worker) FROM r GROUP BY worker) AS g
