-- Per minute, every worker's stats together (docs/reference.md#runners-and-stats): what the stats rows
-- of that minute add up to, kept so that totals are read without merging every worker's row. Each
-- runner adds the sum of its workers' rows to the minute's total in the same settle
-- (stats_totals_add.sql); pruned with the stats rows. Filled here from the stats rows already kept.
CREATE TABLE stats_totals (
  minute    INTEGER NOT NULL PRIMARY KEY,
  processed INTEGER NOT NULL DEFAULT 0,
  failed    INTEGER NOT NULL DEFAULT 0,
  retried   INTEGER NOT NULL DEFAULT 0,
  dead      INTEGER NOT NULL DEFAULT 0,
  wait      TEXT    NOT NULL DEFAULT '{}',
  run       TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO stats_totals (minute, processed, failed, retried, dead, wait, run)
SELECT s.minute, sum(s.processed), sum(s.failed), sum(s.retried), sum(s.dead),
  (SELECT json_group_object(key, n) FROM (
     SELECT j.key, sum(j.value) AS n FROM stats AS o, json_each(o.wait) AS j
     WHERE o.minute = s.minute GROUP BY j.key)),
  (SELECT json_group_object(key, n) FROM (
     SELECT j.key, sum(j.value) AS n FROM stats AS o, json_each(o.run) AS j
     WHERE o.minute = s.minute GROUP BY j.key))
FROM stats AS s GROUP BY s.minute;
