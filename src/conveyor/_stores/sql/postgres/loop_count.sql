SELECT count(*) FROM (
  SELECT 1 FROM {schema}.messages
  WHERE root_id = %(root)s AND worker = %(worker)s AND looped AND state IN ('queued', 'running')
  LIMIT %(cap)s) AS l
