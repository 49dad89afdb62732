UPDATE messages
SET state = 'dead', attempt = :attempt, last_error = :error, runner = NULL, lease_until = NULL
WHERE id = :id AND state = 'running' AND runner = :runner
RETURNING worker
