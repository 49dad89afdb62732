-- Workers with queued messages that are not in the :defined list ("404"). The count comes from counts
-- and the unfolded deltas; the first and last emit are those of the earliest- and latest-due held
-- messages, read from messages_ready (so this stays fast however many messages are held).
SELECT c.worker, c.n::bigint, f.enqueued_at, l.enqueued_at, f.event
FROM (SELECT worker, sum(n) AS n
      FROM (SELECT worker, n FROM {schema}.counts WHERE state = 'queued'
            UNION ALL
            SELECT worker, n FROM {schema}.count_deltas WHERE state = 'queued') AS a
      WHERE worker <> ALL(%(defined)s::text[])
      GROUP BY worker
      HAVING sum(n) > 0) AS c
CROSS JOIN LATERAL (
  SELECT m.enqueued_at, m.event FROM {schema}.messages AS m
  WHERE m.worker = c.worker AND m.state = 'queued' ORDER BY m.run_at, m.id LIMIT 1
) AS f
CROSS JOIN LATERAL (
  SELECT m.enqueued_at FROM {schema}.messages AS m
  WHERE m.worker = c.worker AND m.state = 'queued' ORDER BY m.run_at DESC, m.id DESC LIMIT 1
) AS l
ORDER BY c.worker
