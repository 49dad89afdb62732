SELECT id, worker, event,
       CASE WHEN state = 'queued' AND run_at > date_part('epoch', now()) THEN 'scheduled' ELSE state END,
       enqueued_at, run_at, attempt, parent_id, root_id, key, last_error
FROM {schema}.messages
WHERE (%(worker)s::text IS NULL OR worker = %(worker)s::text)
  AND (%(state)s::text IS NULL
       OR (%(state)s::text = 'queued' AND state = 'queued' AND run_at <= date_part('epoch', now()))
       OR (%(state)s::text = 'scheduled' AND state = 'queued' AND run_at > date_part('epoch', now()))
       OR (%(state)s::text IN ('running', 'dead') AND state = %(state)s::text))
ORDER BY run_at, id
LIMIT %(limit)s
