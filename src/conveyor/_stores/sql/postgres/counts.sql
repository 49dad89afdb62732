-- Per worker: queued (due), scheduled (due later), running, dead. The totals are counts plus the deltas
-- not folded yet (few rows: see migrations/0002_counts.sql), read in one snapshot; only the scheduled part
-- of the queued ones is counted, from messages_ready (an index range per worker: run_at > now).
WITH c AS (
  SELECT worker,
         sum(n) FILTER (WHERE state = 'queued') AS queued,
         sum(n) FILTER (WHERE state = 'running') AS running,
         sum(n) FILTER (WHERE state = 'dead') AS dead
  FROM (SELECT worker, state, n FROM {schema}.counts
        UNION ALL
        SELECT worker, state, n FROM {schema}.count_deltas) AS a
  GROUP BY worker
  HAVING sum(n) > 0
)
SELECT c.worker, (coalesce(c.queued, 0) - s.n)::bigint, s.n::bigint, coalesce(c.running, 0)::bigint,
       coalesce(c.dead, 0)::bigint
FROM c
CROSS JOIN LATERAL (
  SELECT count(*) AS n FROM {schema}.messages AS m
  WHERE m.worker = c.worker AND m.state = 'queued' AND m.run_at > date_part('epoch', now())
) AS s
