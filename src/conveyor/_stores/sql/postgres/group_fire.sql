-- The last members of these groups finished: emit each group's `then` message (group_ids: the members)
-- and delete the group. Counted and announced as enqueue.sql does.
WITH g AS (
  DELETE FROM {schema}.groups WHERE id = ANY(%(ids)s::bigint[]) RETURNING *
), m AS (
  INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority,
                                 meta, group_ids)
  SELECT worker, event, date_part('epoch', now()), date_part('epoch', now()) + delay, parent_id, root_id, chain,
         looped, priority, meta, members
  FROM g ORDER BY id
  RETURNING id, worker, state
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, count(*) FROM m GROUP BY worker, state
)
SELECT id, pg_notify('{channel}', worker) FROM m
