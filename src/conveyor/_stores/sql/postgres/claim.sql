-- One statement. For each claimable worker (named, not paused, not blocked) its room: :limit, or for a
-- capped worker its cap minus what runs now on every host (capped_room serializes claims of that worker
-- across hosts, in worker-name order so two claimers never wait on each other). Then per worker its
-- oldest due messages up to that room (and :per_worker, see _spread.py), walking messages_ready and skipping rows other claimers hold
-- (SKIP LOCKED, rechecked on their newest version); then the oldest of all those, up to :limit. The
-- plan does not depend on the parameters (rows by primary key from an array), so it is planned once per
-- connection (a generic plan, see runner_transaction.sql). The claimed messages are counted in the same
-- statement (count_deltas: see migrations/0002_counts.sql).
WITH workers AS MATERIALIZED (
  SELECT w.worker,
         CASE WHEN w.cap IS NULL THEN %(limit)s
              ELSE least(%(limit)s, {schema}.capped_room(w.worker, w.cap)) END AS room
  FROM (SELECT u.worker, u.cap
        FROM unnest(%(workers)s::text[], %(caps)s::integer[]) AS u (worker, cap)
        WHERE NOT EXISTS (SELECT 1 FROM {schema}.rules AS r
                          WHERE r.worker = u.worker AND (r.paused OR r.blocked IS NOT NULL))
        ORDER BY u.worker
        OFFSET 0) AS w
),
picked AS (
  SELECT d.id, d.run_at
  FROM workers AS w
  CROSS JOIN LATERAL (
    SELECT q.id, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at <= date_part('epoch', now())
    ORDER BY q.run_at, q.id
    LIMIT greatest(least(w.room, %(per_worker)s), 0)
    FOR UPDATE SKIP LOCKED
  ) AS d
  ORDER BY d.run_at, d.id
  LIMIT %(limit)s
),
r AS (
  UPDATE {schema}.messages AS m
  SET state = 'running', attempt = m.attempt + 1, runner = %(runner)s,
      lease_until = date_part('epoch', now()) + %(lease)s, started_at = date_part('epoch', now())
  WHERE m.id = ANY(ARRAY(SELECT id FROM picked))
  RETURNING m.id, m.worker, m.event, m.enqueued_at, m.run_at, m.attempt, m.parent_id, m.root_id, m.key,
            m.last_error, m.chain, m.started_at, m.snoozes
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('queued', -g.k), ('running', g.k)) AS v (state, n)
)
SELECT id, worker, event, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, chain, started_at,
       snoozes
FROM r
