DELETE FROM messages WHERE worker = ? AND state = 'queued'
