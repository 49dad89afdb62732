UPDATE {schema}.messages AS m
SET state = 'dead', attempt = u.attempt, last_error = u.error, runner = NULL, lease_until = NULL
FROM unnest(%(ids)s::bigint[], %(attempts)s::integer[], %(errors)s::text[]) AS u (id, attempt, error)
WHERE m.id = u.id AND m.state = 'running' AND m.runner = %(runner)s
