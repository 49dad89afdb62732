SELECT count(*) FROM (
  SELECT 1 FROM messages
  WHERE root_id = :root AND worker = :worker AND looped = 1 AND state IN ('queued', 'running')
  LIMIT :cap)
