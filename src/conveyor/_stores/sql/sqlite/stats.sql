-- The stats rows of every worker from minute :since on, each minute's total (worker '') first.
SELECT '' AS worker, minute, processed, failed, retried, dead, wait, run
FROM stats_totals
WHERE minute >= :since
UNION ALL
SELECT worker, minute, processed, failed, retried, dead, wait, run
FROM stats
WHERE minute >= :since
ORDER BY minute, worker
