-- One statement: for each claimable worker, its room (cap minus running, or :limit; at most what its
-- rate allows now, :paced, a JSON object worker -> starts: see _sqlite_rates.py), its first due
-- messages up to that room (and :per_worker) in claim order (priority, highest first; run_at; id: see
-- claim_uncapped.sql for the two indexes); then the first of all of those, up to :limit.
WITH workers (worker, room) AS (
  SELECT j.key,
         min(CASE WHEN j.value IS NULL THEN :limit
                  ELSE j.value - (SELECT count(*) FROM messages r WHERE r.worker = j.key AND r.state = 'running')
             END,
             coalesce(p.value, :limit))
  FROM json_each(:limits) AS j
  JOIN counts AS c ON c.worker = j.key AND c.state = 'queued' AND c.n > 0  -- one row: skip idle workers
  LEFT JOIN json_each(:paced) AS p ON p.key = j.key  -- a rate-limited worker's starts allowed now
  WHERE NOT EXISTS (
    SELECT 1 FROM rules WHERE rules.worker = j.key AND (rules.paused OR rules.blocked IS NOT NULL))
),
candidates AS (
  SELECT m.id, m.priority, m.run_at, w.room,
         row_number() OVER (PARTITION BY m.worker ORDER BY m.priority DESC, m.run_at, m.id) AS rank
  FROM workers AS w JOIN messages AS m ON m.worker = w.worker
  WHERE w.room > 0
    AND m.id IN (SELECT r.id FROM (SELECT d.id FROM messages AS d INDEXED BY messages_ranked
                                   WHERE d.worker = w.worker AND d.state = 'queued' AND d.priority <> 0
                                     AND d.run_at <= :now
                                   ORDER BY d.priority DESC, d.run_at, d.id LIMIT :per_worker) AS r
                 UNION ALL
                 SELECT z.id FROM (SELECT d.id FROM messages AS d
                                   WHERE d.worker = w.worker AND d.state = 'queued' AND d.run_at <= :now
                                     AND d.priority = 0
                                   ORDER BY d.run_at, d.id LIMIT :per_worker) AS z)
)
UPDATE messages
SET state = 'running', attempt = attempt + 1, runner = :runner, lease_until = :now + :lease, started_at = :now
WHERE id IN (SELECT id FROM candidates WHERE rank <= room ORDER BY priority DESC, run_at, id LIMIT :limit)
RETURNING id, worker, event, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, chain,
          started_at, snoozes, priority, group_id, group_ids, meta
