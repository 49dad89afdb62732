-- The last member of a group finished: emit its `then` message, whose group_ids are the members.
INSERT INTO messages (id, worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped, priority, meta, group_ids)
SELECT max(coalesce((SELECT max(id) FROM messages), 0), (SELECT n FROM id_floor)) + 1,
       worker, event, :now, :now + delay, parent_id, root_id, chain, looped, priority, meta, members
FROM groups WHERE id = :id
RETURNING id, worker
