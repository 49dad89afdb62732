-- Oldest first (run_at, then id), optionally of one worker and one state. Each worker's candidates are
-- read in index order (messages_ready for queued and scheduled, messages_busy for running and dead) and
-- cut at :limit before the merge, so this stays fast with millions queued. The workers are those with
-- messages, from counts and the unfolded deltas. The server's now is read once.
WITH t AS (SELECT date_part('epoch', now()) AS now),
workers AS (
  SELECT worker
  FROM (SELECT worker, n FROM {schema}.counts
        UNION ALL
        SELECT worker, n FROM {schema}.count_deltas) AS a
  WHERE %(worker)s::text IS NULL OR worker = %(worker)s::text
  GROUP BY worker
  HAVING sum(n) > 0
),
picked AS (
  SELECT d.id, d.run_at FROM workers AS w CROSS JOIN LATERAL (
    SELECT q.id, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at >= '-Infinity'::float8
    ORDER BY q.run_at, q.id LIMIT %(limit)s) AS d
  WHERE %(state)s::text IS NULL
  UNION ALL
  SELECT d.id, d.run_at FROM workers AS w CROSS JOIN LATERAL (
    SELECT q.id, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at <= (SELECT now FROM t)
    ORDER BY q.run_at, q.id LIMIT %(limit)s) AS d
  WHERE %(state)s::text = 'queued'
  UNION ALL
  SELECT d.id, d.run_at FROM workers AS w CROSS JOIN LATERAL (
    SELECT q.id, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at > (SELECT now FROM t)
    ORDER BY q.run_at, q.id LIMIT %(limit)s) AS d
  WHERE %(state)s::text = 'scheduled'
  UNION ALL
  SELECT d.id, d.run_at FROM workers AS w CROSS JOIN LATERAL (
    SELECT b.id, b.run_at FROM {schema}.messages AS b
    WHERE b.worker = w.worker AND b.state = 'running'
    ORDER BY b.run_at, b.id LIMIT %(limit)s) AS d
  WHERE %(state)s::text IS NULL OR %(state)s::text = 'running'
  UNION ALL
  SELECT d.id, d.run_at FROM workers AS w CROSS JOIN LATERAL (
    SELECT b.id, b.run_at FROM {schema}.messages AS b
    WHERE b.worker = w.worker AND b.state = 'dead'
    ORDER BY b.run_at, b.id LIMIT %(limit)s) AS d
  WHERE %(state)s::text IS NULL OR %(state)s::text = 'dead'
),
top AS (SELECT id FROM picked ORDER BY run_at, id LIMIT %(limit)s)
SELECT id, worker, event,
       CASE WHEN state = 'queued' AND run_at > (SELECT now FROM t) THEN 'scheduled' ELSE state END,
       enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, snoozes, priority, group_ids, meta
FROM {schema}.messages
WHERE id IN (SELECT id FROM top)
ORDER BY run_at, id
LIMIT %(limit)s
