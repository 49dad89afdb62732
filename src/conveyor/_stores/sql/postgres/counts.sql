SELECT worker,
       count(*) FILTER (WHERE state = 'queued' AND run_at <= date_part('epoch', now())),
       count(*) FILTER (WHERE state = 'queued' AND run_at > date_part('epoch', now())),
       count(*) FILTER (WHERE state = 'running'),
       count(*) FILTER (WHERE state = 'dead')
FROM {schema}.messages
GROUP BY worker
