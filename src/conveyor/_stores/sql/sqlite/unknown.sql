SELECT m.worker, count(*), min(m.enqueued_at), max(m.enqueued_at),
       (SELECT s.event FROM messages AS s WHERE s.worker = m.worker ORDER BY s.id LIMIT 1)
FROM messages AS m
WHERE m.worker NOT IN (SELECT value FROM json_each(:defined))
GROUP BY m.worker
ORDER BY m.worker
