INSERT INTO messages (worker, event, enqueued_at, run_at, parent_id, root_id, chain, looped)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
