-- The messages of a browsed page, by id, in any order (the caller orders them); a queued one due later is
-- reported as scheduled.
SELECT id, worker, event,
       CASE WHEN state = 'queued' AND run_at > date_part('epoch', now()) THEN 'scheduled' ELSE state END,
       enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, snoozes, priority, group_ids, meta
FROM {schema}.messages
WHERE id = ANY(%(ids)s)
