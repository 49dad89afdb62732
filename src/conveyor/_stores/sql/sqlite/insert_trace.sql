INSERT INTO traces (message_id, worker, outcome, event, result, error, traceback, logs, emitted, attempt,
                    enqueued_at, started_at, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
