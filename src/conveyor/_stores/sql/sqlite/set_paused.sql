INSERT INTO rules (worker, paused, updated_at) VALUES (:worker, :paused, :now)
ON CONFLICT (worker) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
