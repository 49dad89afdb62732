SELECT id, worker, event, state, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error
FROM messages
WHERE (:worker IS NULL OR worker = :worker)
  AND (:state IS NULL
       OR (:state = 'queued' AND state = 'queued' AND run_at <= :now)
       OR (:state = 'scheduled' AND state = 'queued' AND run_at > :now)
       OR (:state IN ('running', 'dead') AND state = :state))
ORDER BY run_at, id
LIMIT :limit
