SELECT message_id, worker, event, outcome, result, error, traceback, logs, emitted, attempt,
       enqueued_at, started_at, finished_at
FROM {schema}.traces WHERE worker = %s ORDER BY id DESC
