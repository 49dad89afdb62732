INSERT INTO schedule_defs (runner, name, worker, cron, every, tz, misfire, seen_at)
VALUES (:runner, :name, :worker, :cron, :every, :tz, :misfire, :now)
ON CONFLICT (runner, name) DO UPDATE SET
  worker = excluded.worker, cron = excluded.cron, every = excluded.every, tz = excluded.tz,
  misfire = excluded.misfire, seen_at = excluded.seen_at
