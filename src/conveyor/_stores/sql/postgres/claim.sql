-- One statement. For each claimable worker (named, not paused, not blocked) its room: :limit, or for a
-- capped worker its cap minus what runs now on every host (capped_room serializes claims of that worker
-- across hosts, in worker-name order so two claimers never wait on each other). Then per worker its
-- first due messages up to that room (and :per_worker, see _spread.py) in claim order (priority, highest
-- first; run_at; id), skipping rows other claimers hold (SKIP LOCKED, rechecked on their newest version):
-- those of a priority other than 0 walking messages_ranked (empty while no emit gave a priority), those
-- of priority 0 walking messages_ready (which holds every queued message: the walk passes over due ones
-- of another priority); then the first of all those, up to :limit. The
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
ranked AS (
  SELECT w.worker, w.room, d.id, d.priority, d.run_at
  FROM workers AS w
  CROSS JOIN LATERAL (
    SELECT q.id, q.priority, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.priority <> 0
      AND q.run_at <= date_part('epoch', now())
    ORDER BY q.priority DESC, q.run_at, q.id
    LIMIT greatest(least(w.room, %(per_worker)s), 0)
    FOR UPDATE SKIP LOCKED
  ) AS d
),
plain AS (
  SELECT w.worker, w.room, d.id, d.priority, d.run_at
  FROM workers AS w
  CROSS JOIN LATERAL (
    SELECT q.id, q.priority, q.run_at FROM {schema}.messages AS q
    WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at <= date_part('epoch', now())
      AND q.priority = 0
    ORDER BY q.run_at, q.id
    LIMIT greatest(least(w.room, %(per_worker)s), 0)
    FOR UPDATE SKIP LOCKED
  ) AS d
),
picked AS (
  SELECT c.id, c.priority, c.run_at
  FROM (SELECT u.*, row_number() OVER (PARTITION BY u.worker ORDER BY u.priority DESC, u.run_at, u.id) AS rank
        FROM (SELECT * FROM ranked UNION ALL SELECT * FROM plain) AS u) AS c
  WHERE c.rank <= c.room
  ORDER BY c.priority DESC, c.run_at, c.id
  LIMIT %(limit)s
),
r AS (
  UPDATE {schema}.messages AS m
  SET state = 'running', attempt = m.attempt + 1, runner = %(runner)s,
      lease_until = date_part('epoch', now()) + %(lease)s, started_at = date_part('epoch', now())
  WHERE m.id = ANY(ARRAY(SELECT id FROM picked))
  RETURNING m.id, m.worker, m.event, m.enqueued_at, m.run_at, m.attempt, m.parent_id, m.root_id, m.key,
            m.last_error, m.chain, m.started_at, m.snoozes, m.priority, m.group_id, m.group_ids, m.meta
), counted AS (
  INSERT INTO {schema}.count_deltas (worker, state, n)
  SELECT g.worker, v.state, v.n
  FROM (SELECT worker, count(*) AS k FROM r GROUP BY worker) AS g
  CROSS JOIN LATERAL (VALUES ('queued', -g.k), ('running', g.k)) AS v (state, n)
)
SELECT id, worker, event, enqueued_at, run_at, attempt, parent_id, root_id, key, last_error, chain, started_at,
       snoozes, priority, group_id, group_ids, meta
FROM r
