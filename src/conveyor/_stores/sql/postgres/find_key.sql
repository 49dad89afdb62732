SELECT id FROM {schema}.messages WHERE key = %s AND state IN ('queued', 'running')
