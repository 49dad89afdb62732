-- A page of one worker's dead letters after a cursor, in id order through messages_dead (the cursor's
-- run_at is not used): see browse_queued.sql.
SELECT id, run_at, :text IS NULL OR key = :text OR instr(event, :text) > 0
FROM messages
WHERE worker = :worker AND state = 'dead' AND id > :id
ORDER BY id
LIMIT :scan
