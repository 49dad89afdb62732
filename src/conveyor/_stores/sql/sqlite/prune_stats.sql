-- Remove at most :limit stats rows of minutes before :before, the oldest first.
DELETE FROM stats
WHERE (minute, worker) IN (SELECT minute, worker FROM stats WHERE minute < :before ORDER BY minute LIMIT :limit)
