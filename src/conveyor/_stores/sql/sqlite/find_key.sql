SELECT id FROM messages WHERE key = ? AND state IN ('queued', 'running')
