-- Every runner the store knows of, with the seconds since its last heartbeat.
SELECT id, host, pid, workers, started_at, seen_at, slots, running, :now - seen_at
FROM runners
ORDER BY id
