-- Many messages without keys in one statement; ids are drawn in input order (ORDER BY ord).
INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped)
SELECT u.worker, u.event, date_part('epoch', now()), date_part('epoch', now()) + u.delay,
       u.parent_id, u.root_id, u.chain, u.looped
FROM unnest(%(workers)s::text[], %(events)s::text[], %(delays)s::float8[], %(parents)s::bigint[],
            %(roots)s::bigint[], %(chains)s::text[], %(looped)s::boolean[])
     WITH ORDINALITY AS u (worker, event, delay, parent_id, root_id, chain, looped, ord)
ORDER BY u.ord
RETURNING id, pg_notify('{channel}', worker)
