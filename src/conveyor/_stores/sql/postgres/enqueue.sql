-- The hot path: one prepared statement, one round trip. The NOTIFY is part of the same transaction, so
-- runners hear of the message when (and only if) it commits — also inside a caller's transaction. The
-- message is counted here, in the same statement (see migrations/0002_counts.sql: an INSERT trigger would
-- cost a quarter of the emit rate).
WITH m AS (
  INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority, meta)
  VALUES (%s, %s, date_part('epoch', now()), date_part('epoch', now()) + %s, %s, %s, %s, %s, %s, %s)
  RETURNING id, worker, state
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n) SELECT worker, state, 1 FROM m
)
SELECT id, pg_notify('{channel}', worker) FROM m
