INSERT INTO schedule_state (name, paused, since, updated_at) VALUES (:name, :paused, :now, :now)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
