-- A key already queued or running: no row (the caller then looks the existing id up with find_key).
-- Counted in the same statement, as in enqueue.sql.
WITH m AS (
  INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority, meta, key)
  VALUES (%s, %s, date_part('epoch', now()), date_part('epoch', now()) + %s, %s, %s, %s, %s, %s, %s, %s)
  ON CONFLICT DO NOTHING
  RETURNING id, worker, state
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, 1 FROM m
)
SELECT id, pg_notify('{channel}', worker) FROM m
