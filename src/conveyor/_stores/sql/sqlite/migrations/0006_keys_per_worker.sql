-- A dedup key is per worker (DESIGN.md §2): the same key queued for two workers is two messages.
-- Every row the old index allowed (keys unique across workers) is allowed by the new one.
DROP INDEX messages_key;
CREATE UNIQUE INDEX messages_key ON messages (worker, key) WHERE key IS NOT NULL AND state IN ('queued', 'running');
