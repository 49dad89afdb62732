UPDATE {schema}.messages AS m
SET state = 'queued', run_at = date_part('epoch', now()) + u.delay, attempt = greatest(m.attempt - 1, 0),
    runner = NULL, lease_until = NULL
FROM unnest(%(ids)s::bigint[], %(delays)s::float8[]) AS u (id, delay)
WHERE m.id = u.id AND m.state = 'running' AND m.runner = %(runner)s
