-- A page of one worker's running messages after a cursor, in (run_at, id) order (through messages_running;
-- as many as the runners' slots): see browse_queued.sql.
SELECT id, run_at, :text IS NULL OR key = :text OR instr(event, :text) > 0
FROM messages
WHERE worker = :worker AND state = 'running' AND (run_at, id) > (:run_at, :id)
ORDER BY run_at, id
LIMIT :scan
