-- A page of one worker's queued messages (due and later) after a cursor, in (run_at, id) order through
-- messages_ready: at most :scan rows from the cursor up to :hi (run_at), each with whether its key equals
-- :text or its event contains it (1 without :text). Only (id, run_at, hit): the page reads the hits whole.
SELECT id, run_at, :text IS NULL OR key = :text OR instr(event, :text) > 0
FROM messages
WHERE worker = :worker AND state = 'queued' AND run_at <= :hi AND (run_at, id) > (:run_at, :id)
ORDER BY run_at, id
LIMIT :scan
