-- Oldest first (run_at, then id), optionally of one worker and one state. Each worker's candidates are
-- read in index order and cut at :limit before the merge, so this stays fast with millions queued.
WITH workers AS (
  SELECT DISTINCT worker FROM counts WHERE n > 0 AND (:worker IS NULL OR worker = :worker)
),
picked (id) AS (
  SELECT q.id FROM workers AS w JOIN messages AS q ON q.id IN (
    SELECT d.id FROM messages AS d WHERE d.worker = w.worker AND d.state = 'queued'
    ORDER BY d.run_at, d.id LIMIT :limit)
  WHERE :state IS NULL
  UNION ALL
  SELECT q.id FROM workers AS w JOIN messages AS q ON q.id IN (
    SELECT d.id FROM messages AS d WHERE d.worker = w.worker AND d.state = 'queued' AND d.run_at <= :now
    ORDER BY d.run_at, d.id LIMIT :limit)
  WHERE :state = 'queued'
  UNION ALL
  SELECT q.id FROM workers AS w JOIN messages AS q ON q.id IN (
    SELECT d.id FROM messages AS d WHERE d.worker = w.worker AND d.state = 'queued' AND d.run_at > :now
    ORDER BY d.run_at, d.id LIMIT :limit)
  WHERE :state = 'scheduled'
  UNION ALL
  SELECT r.id FROM workers AS w JOIN messages AS r ON r.worker = w.worker AND r.state = 'running'
  WHERE :state IS NULL OR :state = 'running'
  UNION ALL
  SELECT x.id FROM workers AS w JOIN messages AS x ON x.id IN (
    SELECT d.id FROM messages AS d WHERE d.worker = w.worker AND d.state = 'dead' ORDER BY d.id LIMIT :limit)
  WHERE :state IS NULL OR :state = 'dead'
)
SELECT id, worker, event, state, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, snoozes, priority, group_ids, meta
FROM messages
WHERE id IN (SELECT id FROM picked)
ORDER BY run_at, id
LIMIT :limit
