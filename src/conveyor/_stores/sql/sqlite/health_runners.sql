-- Runners seen since :since (seconds since the epoch), newest first: their id and when last seen.
SELECT id, seen_at FROM runners WHERE seen_at >= :since ORDER BY seen_at DESC
