-- Acknowledge a runner's finished messages (a JSON array of ids) in one statement.
DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?)) RETURNING worker, state
