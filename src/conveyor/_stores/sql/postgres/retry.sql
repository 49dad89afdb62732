UPDATE {schema}.messages AS m
SET state = 'queued', run_at = date_part('epoch', now()) + u.delay, last_error = u.error, runner = NULL,
    lease_until = NULL
FROM unnest(%(ids)s::bigint[], %(delays)s::float8[], %(errors)s::text[]) AS u (id, delay, error)
WHERE m.id = u.id AND m.state = 'running' AND m.runner = %(runner)s
