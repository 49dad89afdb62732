-- Before rescue.sql, in its transaction: a trace with outcome 'lost' for each run whose lease expired
-- (its runner died or stalled and can write no trace). Pruned to the worker's keep by its next settle.
INSERT INTO traces (message_id, worker, outcome, event, result, error, traceback, logs, emitted, attempt,
                    enqueued_at, started_at, finished_at)
SELECT id, worker, 'lost', event, NULL,
       'lease expired: runner ' || coalesce(runner, '?') || ' stopped renewing it on attempt ' || attempt
       || ' (the runner died or stalled)',
       NULL, '[]', '[]', attempt, enqueued_at, coalesce(started_at, :now), :now
FROM messages INDEXED BY messages_running  -- the running ones only (partial index)
WHERE state = 'running' AND lease_until < :now
