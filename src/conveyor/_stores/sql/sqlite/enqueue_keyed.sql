INSERT INTO messages (id, worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority, key)
VALUES (max(coalesce((SELECT max(id) FROM messages), 0), (SELECT n FROM id_floor)) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
RETURNING id
