UPDATE messages
SET state = 'queued', run_at = :now + :delay, last_error = :error, runner = NULL, lease_until = NULL
WHERE id = :id AND state = 'running' AND runner = :runner
RETURNING worker
