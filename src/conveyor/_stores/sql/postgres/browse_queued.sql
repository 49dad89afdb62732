-- A page of one worker's queued messages (due and later) after a cursor, in (run_at, id) order through
-- messages_ready: at most :scan rows from the cursor up to :hi (run_at), each with whether its key equals
-- :text or its event contains it (true without :text). Only (id, run_at, hit): the page reads hits whole.
SELECT id, run_at, %(text)s::text IS NULL OR key = %(text)s::text OR strpos(event, %(text)s::text) > 0
FROM {schema}.messages
WHERE worker = %(worker)s AND state = 'queued' AND run_at <= %(hi)s::float8
  AND (run_at, id) > (%(run_at)s::float8, %(id)s::bigint)
ORDER BY run_at, id
LIMIT %(scan)s
