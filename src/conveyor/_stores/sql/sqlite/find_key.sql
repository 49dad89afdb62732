-- The message holding a worker's dedup key (one probe of the unique index messages_key).
SELECT id FROM messages WHERE worker = ? AND key = ? AND state IN ('queued', 'running')
