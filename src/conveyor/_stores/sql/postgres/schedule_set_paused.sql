INSERT INTO {schema}.schedule_state (name, paused, since, updated_at)
VALUES (%(name)s, %(paused)s, date_part('epoch', now()), date_part('epoch', now()))
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
