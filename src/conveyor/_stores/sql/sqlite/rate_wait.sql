-- Seconds from :now until the first of the rate-limited workers of :workers (a JSON list; paused and
-- blocked ones left out) that holds due messages back gets its next start (NULL: none holds any back;
-- zero or less: a start is allowed now, something else holds them).
SELECT min(r.tat - r.period + r.period / r.n) - :now
FROM rates AS r JOIN json_each(:workers) AS j ON j.value = r.worker
WHERE EXISTS (SELECT 1 FROM messages AS m INDEXED BY messages_ready
              WHERE m.worker = r.worker AND m.state = 'queued' AND m.run_at <= :now)
  AND NOT EXISTS (
    SELECT 1 FROM rules WHERE rules.worker = r.worker AND (rules.paused OR rules.blocked IS NOT NULL))
