INSERT INTO {schema}.runners (id, workers, started_at, seen_at, host, pid, slots, running)
VALUES (%(runner)s, %(workers)s::text[], date_part('epoch', now()), date_part('epoch', now()),
        %(host)s, %(pid)s, %(slots)s, %(running)s::bigint[])
ON CONFLICT (id) DO UPDATE SET workers = excluded.workers, seen_at = excluded.seen_at, host = excluded.host,
  pid = excluded.pid, slots = excluded.slots, running = excluded.running
