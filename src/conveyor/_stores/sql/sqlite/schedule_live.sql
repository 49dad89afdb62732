-- Schedules live runners define, the most recently published definition of each name first.
SELECT name, worker, cron, every, tz, misfire FROM schedule_defs WHERE seen_at >= ? ORDER BY name, seen_at DESC
