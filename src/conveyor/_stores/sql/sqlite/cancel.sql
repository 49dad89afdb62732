DELETE FROM messages WHERE id = ? AND state = 'queued' RETURNING worker
