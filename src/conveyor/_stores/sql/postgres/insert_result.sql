-- Keep finished messages' outcomes until keep seconds from now (a message retried from the dead letters
-- and finished again replaces its earlier outcome).
INSERT INTO {schema}.results AS r (message_id, worker, outcome, value, is_repr, error, finished_at, expires_at)
SELECT u.id, u.worker, u.outcome, u.value, u.is_repr, u.error, t.now, t.now + u.keep
FROM unnest(%(ids)s::bigint[], %(workers)s::text[], %(outcomes)s::text[], %(values)s::text[],
            %(reprs)s::boolean[], %(errors)s::text[], %(keeps)s::double precision[])
       AS u (id, worker, outcome, value, is_repr, error, keep)
CROSS JOIN (SELECT date_part('epoch', now()) AS now) AS t
ON CONFLICT (message_id) DO UPDATE
SET worker = excluded.worker, outcome = excluded.outcome, value = excluded.value,
    is_repr = excluded.is_repr, error = excluded.error, finished_at = excluded.finished_at,
    expires_at = excluded.expires_at
