-- A runner's stats, one row per (minute, worker) (none twice), added to the rows: counts add, histograms
-- add bucket by bucket. Rows are locked in (minute, worker) order, the same in every runner.
INSERT INTO {schema}.stats AS s (minute, worker, processed, failed, retried, dead, wait, run)
SELECT * FROM unnest(%(minutes)s::bigint[], %(workers)s::text[], %(processed)s::integer[],
                     %(failed)s::integer[], %(retried)s::integer[], %(dead)s::integer[],
                     %(waits)s::jsonb[], %(runs)s::jsonb[])
ORDER BY 1, 2
ON CONFLICT (minute, worker) DO UPDATE SET
  processed = s.processed + excluded.processed,
  failed    = s.failed + excluded.failed,
  retried   = s.retried + excluded.retried,
  dead      = s.dead + excluded.dead,
  wait      = {schema}.histogram_add(s.wait, excluded.wait),
  run       = {schema}.histogram_add(s.run, excluded.run)
