DELETE FROM messages
WHERE state = 'dead' AND (:id IS NULL OR id = :id) AND (:worker IS NULL OR worker = :worker)
RETURNING worker
