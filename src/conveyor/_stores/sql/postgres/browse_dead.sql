-- A page of one worker's dead letters after a cursor, in id order (through messages_busy; the cursor's
-- run_at is not used): see browse_queued.sql.
SELECT id, run_at, %(text)s::text IS NULL OR key = %(text)s::text OR strpos(event, %(text)s::text) > 0
FROM {schema}.messages
WHERE worker = %(worker)s AND state = 'dead' AND id > %(id)s::bigint
ORDER BY id
LIMIT %(scan)s
