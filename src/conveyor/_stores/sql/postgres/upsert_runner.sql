INSERT INTO {schema}.runners (id, workers, started_at, seen_at)
VALUES (%(runner)s, %(workers)s::text[], date_part('epoch', now()), date_part('epoch', now()))
ON CONFLICT (id) DO UPDATE SET workers = excluded.workers, seen_at = excluded.seen_at
