-- The stats rows of every worker over the last %(minutes)s minutes (the current one included), each
-- minute's total (worker '') first.
WITH since AS (SELECT (floor(date_part('epoch', now()) / 60) - %(minutes)s + 1) * 60 AS minute)
SELECT '' AS worker, minute, processed, failed, retried, dead, wait, run
FROM {schema}.stats_totals
WHERE minute >= (SELECT minute FROM since)
UNION ALL
SELECT worker, minute, processed, failed, retried, dead, wait, run
FROM {schema}.stats
WHERE minute >= (SELECT minute FROM since)
ORDER BY minute, worker
