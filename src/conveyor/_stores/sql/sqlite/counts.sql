-- Per worker: queued (due), scheduled (due later), running, dead. The totals come from the counts
-- table; only the scheduled part of the queued ones is counted, from the ready index.
SELECT c.worker,
       c.queued - c.scheduled, c.scheduled, c.running, c.dead
FROM (SELECT worker,
             sum(CASE state WHEN 'queued' THEN n ELSE 0 END) AS queued,
             sum(CASE state WHEN 'running' THEN n ELSE 0 END) AS running,
             sum(CASE state WHEN 'dead' THEN n ELSE 0 END) AS dead,
             (SELECT count(*) FROM messages AS m
              WHERE m.worker = counts.worker AND m.state = 'queued' AND m.run_at > :now) AS scheduled
      FROM counts
      GROUP BY worker
      HAVING sum(n) > 0) AS c
