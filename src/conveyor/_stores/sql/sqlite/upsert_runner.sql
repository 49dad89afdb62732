INSERT INTO runners (id, workers, started_at, seen_at, host, pid, slots, running)
VALUES (:runner, :workers, :now, :now, :host, :pid, :slots, :running)
ON CONFLICT (id) DO UPDATE SET workers = excluded.workers, seen_at = excluded.seen_at, host = excluded.host,
  pid = excluded.pid, slots = excluded.slots, running = excluded.running
