-- Remove at most :limit minutes' totals before :before, the oldest first.
DELETE FROM stats_totals
WHERE minute IN (SELECT minute FROM stats_totals WHERE minute < :before ORDER BY minute LIMIT :limit)
