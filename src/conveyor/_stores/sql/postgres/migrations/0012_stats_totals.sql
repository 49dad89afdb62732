-- Per minute, every worker's stats together (docs/reference.md#runners-and-stats): what the stats rows
-- of that minute add up to, kept so that totals are read without merging every worker's row. Each
-- runner adds the sum of its workers' rows to the minute's total in the same settle
-- (stats_totals_add.sql); pruned with the stats rows. Filled here from the stats rows already kept.
CREATE TABLE {schema}.stats_totals (
  minute    bigint  NOT NULL PRIMARY KEY,
  processed integer NOT NULL DEFAULT 0,
  failed    integer NOT NULL DEFAULT 0,
  retried   integer NOT NULL DEFAULT 0,
  dead      integer NOT NULL DEFAULT 0,
  wait      jsonb   NOT NULL DEFAULT '{}',
  run       jsonb   NOT NULL DEFAULT '{}'
);
INSERT INTO {schema}.stats_totals (minute, processed, failed, retried, dead, wait, run)
SELECT s.minute, sum(s.processed), sum(s.failed), sum(s.retried), sum(s.dead),
  (SELECT coalesce(jsonb_object_agg(key, n), '{}'::jsonb) FROM (
     SELECT j.key, sum(j.value::bigint) AS n FROM {schema}.stats AS o, jsonb_each_text(o.wait) AS j
     WHERE o.minute = s.minute GROUP BY j.key) AS t),
  (SELECT coalesce(jsonb_object_agg(key, n), '{}'::jsonb) FROM (
     SELECT j.key, sum(j.value::bigint) AS n FROM {schema}.stats AS o, jsonb_each_text(o.run) AS j
     WHERE o.minute = s.minute GROUP BY j.key) AS t)
FROM {schema}.stats AS s GROUP BY s.minute;
