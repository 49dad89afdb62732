-- A new group and what its `then` message will be (its members are added by group_seal.sql).
INSERT INTO groups (remaining, members, worker, event, delay, priority, parent_id, root_id, chain, looped, meta)
VALUES (0, '[]', :worker, :event, :delay, :priority, :parent_id, :root_id, :chain, :looped, :meta)
RETURNING id
