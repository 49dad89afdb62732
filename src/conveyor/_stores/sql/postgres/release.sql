UPDATE {schema}.messages
SET state = 'queued', attempt = greatest(attempt - 1, 0), runner = NULL, lease_until = NULL
WHERE id = ANY(%(ids)s::bigint[]) AND state = 'running' AND runner = %(runner)s
