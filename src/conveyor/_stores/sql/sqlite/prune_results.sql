-- Remove at most :limit expired outcomes, the oldest expiries first.
DELETE FROM results
WHERE message_id IN (SELECT message_id FROM results WHERE expires_at <= :now ORDER BY expires_at LIMIT :limit)
