-- A schedule seen for the first time is known from now: no tick before now is missed.
INSERT INTO schedule_state (name, since, updated_at) VALUES (:name, :now, :now) ON CONFLICT (name) DO NOTHING
