-- Forget runners unseen for %(ttl)s seconds whose messages are no longer running under them (their
-- leases expired and a rescue put them back).
WITH gone AS (
  DELETE FROM {schema}.runners AS r
  WHERE r.seen_at < date_part('epoch', now()) - %(ttl)s
    AND NOT EXISTS (SELECT 1 FROM {schema}.messages AS m WHERE m.state = 'running' AND m.runner = r.id)
  RETURNING 1
)
SELECT count(*)::integer FROM gone
