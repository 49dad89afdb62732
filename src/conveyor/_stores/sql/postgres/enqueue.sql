-- The hot path: one prepared statement, one round trip. The NOTIFY is part of the same transaction, so
-- runners hear of the message when (and only if) it commits — also inside a caller's transaction.
INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped)
VALUES (%s, %s, date_part('epoch', now()), date_part('epoch', now()) + %s, %s, %s, %s, %s)
RETURNING id, pg_notify('{channel}', worker)
