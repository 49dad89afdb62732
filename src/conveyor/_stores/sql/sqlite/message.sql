-- One message by id, in whatever state it is (the caller reports a queued one due later as scheduled).
SELECT id, worker, event, state, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, snoozes, priority, group_ids, meta
FROM messages
WHERE id = ?
