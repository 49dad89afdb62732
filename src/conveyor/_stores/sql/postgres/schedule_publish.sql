INSERT INTO {schema}.schedule_defs (runner, name, worker, cron, every, tz, misfire, seen_at)
SELECT %(runner)s, d.name, d.worker, d.cron, d.every, d.tz, d.misfire, date_part('epoch', now())
FROM unnest(%(names)s::text[], %(workers)s::text[], %(crons)s::text[], %(everys)s::float8[], %(tzs)s::text[],
            %(misfires)s::text[]) AS d (name, worker, cron, every, tz, misfire)
ON CONFLICT (runner, name) DO UPDATE SET
  worker = excluded.worker, cron = excluded.cron, every = excluded.every, tz = excluded.tz,
  misfire = excluded.misfire, seen_at = excluded.seen_at
