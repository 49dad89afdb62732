-- Every runner the store knows of, with the seconds since its last heartbeat.
SELECT id, host, pid, workers, started_at, seen_at, slots, running, date_part('epoch', now()) - seen_at
FROM {schema}.runners
ORDER BY id
