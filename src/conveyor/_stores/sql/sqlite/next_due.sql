-- How long an idle runner may sleep: seconds from :now until the earliest queued message of :workers
-- (a JSON list; paused and blocked workers left out) with run_at after :since falls due (NULL: none;
-- zero or less: one fell due since the runner's last claim). One index probe per worker (messages_ready).
SELECT min((SELECT x.run_at FROM messages AS x
            WHERE x.worker = j.value AND x.state = 'queued' AND x.run_at > :since
            ORDER BY x.run_at LIMIT 1)) - :now
FROM json_each(:workers) AS j
WHERE NOT EXISTS (
  SELECT 1 FROM rules WHERE rules.worker = j.value AND (rules.paused OR rules.blocked IS NOT NULL))
