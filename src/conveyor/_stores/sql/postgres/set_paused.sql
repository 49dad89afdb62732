WITH r AS (
  INSERT INTO {schema}.rules (worker, paused, updated_at)
  VALUES (%(worker)s, %(paused)s, date_part('epoch', now()))
  ON CONFLICT (worker) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
  RETURNING worker
)
SELECT pg_notify('{channel}', worker) FROM r
