SELECT m.worker, count(*), min(m.enqueued_at), max(m.enqueued_at),
       (SELECT s.event FROM {schema}.messages AS s WHERE s.worker = m.worker ORDER BY s.id LIMIT 1)
FROM {schema}.messages AS m
WHERE m.worker <> ALL(%(defined)s::text[])
GROUP BY m.worker
ORDER BY m.worker
