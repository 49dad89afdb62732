-- enqueue.sql for a member of a group (fan-in): the message carries its group's id.
INSERT INTO messages (id, worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority, group_id)
VALUES (max(coalesce((SELECT max(id) FROM messages), 0), (SELECT n FROM id_floor)) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
