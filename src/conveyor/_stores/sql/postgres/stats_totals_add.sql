-- A runner's stats per minute, all its workers together (one row per minute, none twice), added to the
-- minutes' totals: counts add, histograms add bucket by bucket. Rows are locked in minute order, the
-- same in every runner (after its stats rows: stats_add.sql).
INSERT INTO {schema}.stats_totals AS s (minute, processed, failed, retried, dead, wait, run)
SELECT * FROM unnest(%(minutes)s::bigint[], %(processed)s::integer[], %(failed)s::integer[],
                     %(retried)s::integer[], %(dead)s::integer[], %(waits)s::jsonb[], %(runs)s::jsonb[])
ORDER BY 1
ON CONFLICT (minute) DO UPDATE SET
  processed = s.processed + excluded.processed,
  failed    = s.failed + excluded.failed,
  retried   = s.retried + excluded.retried,
  dead      = s.dead + excluded.dead,
  wait      = {schema}.histogram_add(s.wait, excluded.wait),
  run       = {schema}.histogram_add(s.run, excluded.run)
