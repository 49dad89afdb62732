-- Seconds from now until the first of the rate-limited workers of %(workers)s (paused and blocked ones
-- left out) that holds due messages back gets its next start (NULL: none holds any back; zero or less: a
-- start is allowed now, something else holds them).
SELECT min(b.tat - b.period + b.period / b.n) - date_part('epoch', now())
FROM {schema}.rates AS b
WHERE b.worker = ANY(%(workers)s::text[])
  AND EXISTS (SELECT 1 FROM {schema}.messages AS m
              WHERE m.worker = b.worker AND m.state = 'queued' AND m.run_at <= date_part('epoch', now()))
  AND NOT EXISTS (SELECT 1 FROM {schema}.rules AS r
                  WHERE r.worker = b.worker AND (r.paused OR r.blocked IS NOT NULL))
