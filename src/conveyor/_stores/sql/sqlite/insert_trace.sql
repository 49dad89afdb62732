-- A settle applied again after an error past its commit carries the same traces: one already written
-- for that message, attempt and start is not written twice (traces_message finds it). A 'lost' trace the
-- rescue wrote for that run does not count: a stalled runner's late trace is kept beside it.
INSERT INTO traces (message_id, worker, outcome, event, result, error, traceback, logs, emitted, attempt,
                    enqueued_at, started_at, finished_at)
SELECT :message_id, :worker, :outcome, :event, :result, :error, :traceback, :logs, :emitted, :attempt,
       :enqueued_at, :started_at, :finished_at
WHERE NOT EXISTS (SELECT 1 FROM traces
                  WHERE message_id = :message_id AND attempt = :attempt AND started_at = :started_at
                    AND outcome <> 'lost')
