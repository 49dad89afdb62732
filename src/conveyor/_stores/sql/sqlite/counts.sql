SELECT worker,
       sum(state = 'queued' AND run_at <= :now),
       sum(state = 'queued' AND run_at > :now),
       sum(state = 'running'),
       sum(state = 'dead')
FROM messages
GROUP BY worker
