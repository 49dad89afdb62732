-- claim.sql for workers without a concurrency cap (nothing to count): for each claimable worker of
-- :workers (a JSON list) that has queued messages at all (the counts table: one row read, so an idle
-- worker costs no index walk), its oldest due messages by index (up to :per_worker), then the oldest of
-- all of those, up to :limit.
UPDATE messages
SET state = 'running', attempt = attempt + 1, runner = :runner, lease_until = :now + :lease, started_at = :now
WHERE id IN (
  SELECT d.id
  FROM json_each(:workers) AS j
  JOIN counts AS c ON c.worker = j.value AND c.state = 'queued' AND c.n > 0
  JOIN messages AS d
    ON d.id IN (SELECT x.id FROM messages AS x
                WHERE x.worker = j.value AND x.state = 'queued' AND x.run_at <= :now
                ORDER BY x.run_at, x.id LIMIT :per_worker)
  WHERE NOT EXISTS (
    SELECT 1 FROM rules WHERE rules.worker = j.value AND (rules.paused OR rules.blocked IS NOT NULL))
  ORDER BY d.run_at, d.id
  LIMIT :limit
)
RETURNING id, worker, event, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, chain,
          started_at, snoozes
