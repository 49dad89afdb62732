UPDATE OR IGNORE messages SET state = 'queued', attempt = 0, snoozes = 0, run_at = :now
WHERE state = 'dead' AND (:id IS NULL OR id = :id) AND (:worker IS NULL OR worker = :worker)
RETURNING worker
