UPDATE messages
SET state = 'queued', run_at = :now + :delay, attempt = max(attempt - 1, 0), snoozes = snoozes + 1, runner = NULL, lease_until = NULL
WHERE id = :id AND state = 'running' AND runner = :runner
RETURNING worker
