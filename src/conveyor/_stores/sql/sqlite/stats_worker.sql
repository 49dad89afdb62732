-- The stats rows of one worker from minute :since on.
SELECT worker, minute, processed, failed, retried, dead, wait, run
FROM stats INDEXED BY stats_worker
WHERE worker = :worker AND minute >= :since
ORDER BY minute
