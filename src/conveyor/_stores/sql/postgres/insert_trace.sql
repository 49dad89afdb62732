-- A settle sent again after its answer was lost (the connection broke as it committed) carries the same
-- traces: one already written for that message, attempt and start is not written twice (traces_message
-- finds it). A 'lost' trace the rescue wrote for that run does not count: a stalled runner's late trace is
-- kept beside it.
INSERT INTO {schema}.traces (message_id, worker, outcome, event, result, error, traceback, logs, emitted,
                             attempt, enqueued_at, started_at, finished_at)
SELECT u.message_id, u.worker, u.outcome, u.event, u.result, u.error, u.traceback, u.logs, u.emitted,
       u.attempt, u.enqueued_at, u.started_at, u.finished_at
FROM unnest(%(message_ids)s::bigint[], %(workers)s::text[], %(outcomes)s::text[], %(events)s::text[],
            %(results)s::text[], %(errors)s::text[], %(tracebacks)s::text[], %(logs)s::text[],
            %(emitted)s::text[], %(attempts)s::integer[], %(enqueued)s::float8[], %(started)s::float8[],
            %(finished)s::float8[])
     WITH ORDINALITY AS u (message_id, worker, outcome, event, result, error, traceback, logs, emitted,
                           attempt, enqueued_at, started_at, finished_at, ord)
WHERE NOT EXISTS (SELECT 1 FROM {schema}.traces AS t
                  WHERE t.message_id = u.message_id AND t.attempt = u.attempt AND t.started_at = u.started_at
                    AND t.outcome <> 'lost')
ORDER BY u.ord
