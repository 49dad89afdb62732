-- A page of one worker's running messages after a cursor, in (run_at, id) order (through messages_busy;
-- as many as the runners' slots): see browse_queued.sql.
SELECT id, run_at, %(text)s::text IS NULL OR key = %(text)s::text OR strpos(event, %(text)s::text) > 0
FROM {schema}.messages
WHERE worker = %(worker)s AND state = 'running' AND (run_at, id) > (%(run_at)s::float8, %(id)s::bigint)
ORDER BY run_at, id
LIMIT %(scan)s
