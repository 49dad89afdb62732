UPDATE messages INDEXED BY messages_running  -- the running ones only (partial index)
SET state = 'queued', runner = NULL, lease_until = NULL,
    last_error = 'lease expired: runner ' || coalesce(runner, '?') || ' stopped renewing it on attempt '
                 || attempt || ' (the runner died or stalled)'
WHERE state = 'running' AND lease_until < :now
RETURNING worker
