-- Runners seen within the last ttl seconds, newest first: their id (host:pid:tag) and seconds since.
SELECT id, date_part('epoch', now()) - seen_at FROM {schema}.runners
WHERE seen_at >= date_part('epoch', now()) - %(ttl)s ORDER BY seen_at DESC
