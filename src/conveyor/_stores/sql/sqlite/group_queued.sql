-- The queued members of groups among a worker's messages (purge.sql is about to delete them).
SELECT id FROM messages WHERE worker = ? AND state = 'queued' AND group_id IS NOT NULL
