INSERT INTO runners (id, workers, started_at, seen_at) VALUES (:runner, :workers, :now, :now)
ON CONFLICT (id) DO UPDATE SET workers = excluded.workers, seen_at = excluded.seen_at
