-- Keep one finished message's outcome until :keep seconds from now (a message retried from the dead
-- letters and finished again replaces its earlier outcome).
INSERT INTO results (message_id, worker, outcome, value, is_repr, error, finished_at, expires_at)
VALUES (:id, :worker, :outcome, :value, :is_repr, :error, :now, :now + :keep)
ON CONFLICT (message_id) DO UPDATE
SET worker = excluded.worker, outcome = excluded.outcome, value = excluded.value,
    is_repr = excluded.is_repr, error = excluded.error, finished_at = excluded.finished_at,
    expires_at = excluded.expires_at
