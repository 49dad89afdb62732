UPDATE {schema}.schedule_state AS s
SET last_at = greatest(coalesce(s.last_at, u.upto), u.upto), updated_at = date_part('epoch', now())
FROM unnest(%(names)s::text[], %(uptos)s::float8[]) AS u (name, upto)
WHERE s.name = u.name
