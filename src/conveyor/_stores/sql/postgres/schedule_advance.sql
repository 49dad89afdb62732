UPDATE {schema}.schedule_state
SET last_at = greatest(coalesce(last_at, %(upto)s), %(upto)s), updated_at = date_part('epoch', now())
WHERE name = %(name)s
