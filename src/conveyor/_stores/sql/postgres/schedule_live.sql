-- Schedules live runners define, the most recently published definition of each name first.
SELECT name, worker, cron, every, tz, misfire FROM {schema}.schedule_defs
WHERE seen_at >= date_part('epoch', now()) - %s
ORDER BY name, seen_at DESC
