-- Forget runners unseen since :before whose messages are no longer running under them (their leases
-- expired and a rescue put them back).
DELETE FROM runners
WHERE seen_at < :before
  AND NOT EXISTS (SELECT 1 FROM messages
                  WHERE state = 'running' AND runner = runners.id)
