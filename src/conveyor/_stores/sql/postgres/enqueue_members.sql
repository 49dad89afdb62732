-- enqueue_many.sql for the members of one group (fan-in): each message carries the group's id.
WITH m AS (
  INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority,
                                 meta, group_id)
  SELECT u.worker, u.event, date_part('epoch', now()), date_part('epoch', now()) + u.delay,
         u.parent_id, u.root_id, u.chain, u.looped, u.priority, u.meta, %(group)s
  FROM unnest(%(workers)s::text[], %(events)s::text[], %(delays)s::float8[], %(parents)s::bigint[],
              %(roots)s::bigint[], %(chains)s::text[], %(looped)s::boolean[], %(priorities)s::smallint[],
              %(metas)s::text[])
       WITH ORDINALITY AS u (worker, event, delay, parent_id, root_id, chain, looped, priority, meta, ord)
  ORDER BY u.ord
  RETURNING id, worker, state
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, count(*) FROM m GROUP BY worker, state
)
SELECT id, pg_notify('{channel}', worker) FROM m
