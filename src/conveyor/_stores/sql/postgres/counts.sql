-- Counted from the indexes (index-only scans: messages_ready for queued and scheduled messages,
-- messages_busy for running and dead ones), and the server's now read once, so that status() stays
-- fast with 1,000,000 messages queued.
SELECT worker, sum(queued)::bigint, sum(scheduled)::bigint, sum(running)::bigint, sum(dead)::bigint
FROM (
  SELECT worker,
         count(*) FILTER (WHERE run_at <= (SELECT date_part('epoch', now()))) AS queued,
         count(*) FILTER (WHERE run_at > (SELECT date_part('epoch', now()))) AS scheduled,
         0 AS running, 0 AS dead
  FROM {schema}.messages WHERE state = 'queued' GROUP BY worker
  UNION ALL
  SELECT worker, 0, 0, count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'dead')
  FROM {schema}.messages WHERE state <> 'queued' GROUP BY worker
) AS c
GROUP BY worker
