-- The stats rows of every worker from minute :since on.
SELECT worker, minute, processed, failed, retried, dead, wait, run
FROM stats
WHERE minute >= :since
ORDER BY minute, worker
