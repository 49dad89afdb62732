-- Runners and stats (docs/reference.md#runners-and-stats).
-- What a runner's heartbeat records besides its workers: its host, pid, slots and the ids of the
-- messages it runs now (a JSON array). Rows of runners that signed off before have NULLs.
ALTER TABLE runners ADD COLUMN host TEXT;
ALTER TABLE runners ADD COLUMN pid INTEGER;
ALTER TABLE runners ADD COLUMN slots INTEGER;
ALTER TABLE runners ADD COLUMN running TEXT NOT NULL DEFAULT '[]';

-- Per minute and worker: runs finished, failed, retried, and dead letters made, with histograms of
-- wait and run time (JSON objects: bucket index -> count, see _histogram.py). Every runner adds what it
-- gathered to the one row of a (minute, worker) with its settle (stats_add.sql): counts and buckets
-- add up. minute: its start in whole seconds since the epoch. Pruned by the runners after 25 hours.
CREATE TABLE stats (
  minute    INTEGER NOT NULL,
  worker    TEXT    NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  failed    INTEGER NOT NULL DEFAULT 0,
  retried   INTEGER NOT NULL DEFAULT 0,
  dead      INTEGER NOT NULL DEFAULT 0,
  wait      TEXT    NOT NULL DEFAULT '{}',
  run       TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (minute, worker)
) WITHOUT ROWID;
CREATE INDEX stats_worker ON stats (worker, minute);
