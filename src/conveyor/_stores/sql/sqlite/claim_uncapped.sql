-- claim.sql for workers without a concurrency cap (nothing to count): for each claimable worker of
-- :workers (a JSON list) that has queued messages at all (the counts table: one row read, so an idle
-- worker costs no index walk), its first due messages by index (up to :per_worker): those of a priority
-- other than 0 by messages_ranked, those of priority 0 by messages_ready (which holds every queued message:
-- the walk passes over due ones of another priority); then the first of all of those (priority, highest first; run_at; id), up to
-- :limit.
UPDATE messages
SET state = 'running', attempt = attempt + 1, runner = :runner, lease_until = :now + :lease, started_at = :now
WHERE id IN (
  SELECT d.id
  FROM json_each(:workers) AS j
  JOIN counts AS c ON c.worker = j.value AND c.state = 'queued' AND c.n > 0
  JOIN messages AS d
    ON d.id IN (SELECT r.id FROM (SELECT x.id FROM messages AS x INDEXED BY messages_ranked
                                  WHERE x.worker = j.value AND x.state = 'queued' AND x.priority <> 0
                                    AND x.run_at <= :now
                                  ORDER BY x.priority DESC, x.run_at, x.id LIMIT :per_worker) AS r
                UNION ALL
                SELECT z.id FROM (SELECT x.id FROM messages AS x
                                  WHERE x.worker = j.value AND x.state = 'queued' AND x.run_at <= :now
                                    AND x.priority = 0
                                  ORDER BY x.run_at, x.id LIMIT :per_worker) AS z)
  WHERE NOT EXISTS (
    SELECT 1 FROM rules WHERE rules.worker = j.value AND (rules.paused OR rules.blocked IS NOT NULL))
  ORDER BY d.priority DESC, d.run_at, d.id
  LIMIT :limit
)
RETURNING id, worker, event, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, chain,
          started_at, snoozes, priority, group_id, group_ids, meta
