-- Runners and stats (docs/reference.md#runners-and-stats).
-- What a runner's heartbeat records besides its workers: its host, pid, slots and the ids of the
-- messages it runs now. Rows of runners that signed off before have NULLs.
ALTER TABLE {schema}.runners
  ADD COLUMN host    text,
  ADD COLUMN pid     integer,
  ADD COLUMN slots   integer,
  ADD COLUMN running bigint[] NOT NULL DEFAULT '{}';

-- Per minute and worker: runs finished, failed, retried, and dead letters made, with histograms of
-- wait and run time (bucket index -> count, see _histogram.py). Every runner on every host adds what it
-- gathered to the one row of a (minute, worker) with its settle (stats_add.sql): counts and buckets
-- add up. minute: its start in whole seconds since the epoch. Pruned by the runners after 25 hours.
CREATE TABLE {schema}.stats (
  minute    bigint  NOT NULL,
  worker    text    NOT NULL,
  processed integer NOT NULL DEFAULT 0,
  failed    integer NOT NULL DEFAULT 0,
  retried   integer NOT NULL DEFAULT 0,
  dead      integer NOT NULL DEFAULT 0,
  wait      jsonb   NOT NULL DEFAULT '{}',
  run       jsonb   NOT NULL DEFAULT '{}',
  PRIMARY KEY (minute, worker)
);
CREATE INDEX stats_worker ON {schema}.stats (worker, minute);

-- Two histograms added bucket by bucket.
CREATE FUNCTION {schema}.histogram_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(key, n), '{}'::jsonb)
  FROM (SELECT key, sum(value::bigint) AS n
        FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS e
        GROUP BY key) AS t
$$;
