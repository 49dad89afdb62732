-- A schedule seen for the first time is known from now: no tick before now is missed.
INSERT INTO {schema}.schedule_state (name, since, updated_at)
SELECT n, date_part('epoch', now()), date_part('epoch', now()) FROM unnest(%(names)s::text[]) AS n
ON CONFLICT (name) DO NOTHING
