INSERT INTO rules (worker, blocked, updated_at) VALUES (:worker, :blocked, :now)
ON CONFLICT (worker) DO UPDATE SET blocked = excluded.blocked, updated_at = excluded.updated_at
