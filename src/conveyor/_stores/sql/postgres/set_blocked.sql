WITH r AS (
  INSERT INTO {schema}.rules (worker, blocked, updated_at)
  VALUES (%(worker)s, %(blocked)s, date_part('epoch', now()))
  ON CONFLICT (worker) DO UPDATE SET blocked = excluded.blocked, updated_at = excluded.updated_at
  RETURNING worker
)
SELECT pg_notify('{channel}', worker) FROM r
