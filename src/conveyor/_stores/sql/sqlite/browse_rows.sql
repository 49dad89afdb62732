-- The messages of a browsed page, by id (a JSON array), in the page's order (the caller reports a queued
-- one due later as scheduled).
SELECT id, worker, event, state, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, snoozes, priority, group_ids, meta
FROM messages
WHERE id IN (SELECT value FROM json_each(:ids))
