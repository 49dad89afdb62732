-- Workers with queued messages that are not in the :defined list ("404"). The count comes from the
-- counts table; the first and last emit are those of the earliest- and latest-due held messages, read
-- from the ready index (so this stays fast however many messages are held).
SELECT c.worker, c.n,
       (SELECT m.enqueued_at FROM messages AS m WHERE m.worker = c.worker AND m.state = 'queued'
        ORDER BY m.run_at, m.id LIMIT 1),
       (SELECT m.enqueued_at FROM messages AS m WHERE m.worker = c.worker AND m.state = 'queued'
        ORDER BY m.run_at DESC, m.id DESC LIMIT 1),
       (SELECT m.event FROM messages AS m WHERE m.worker = c.worker AND m.state = 'queued'
        ORDER BY m.run_at, m.id LIMIT 1)
FROM counts AS c
WHERE c.state = 'queued' AND c.n > 0 AND c.worker NOT IN (SELECT value FROM json_each(:defined))
ORDER BY c.worker
