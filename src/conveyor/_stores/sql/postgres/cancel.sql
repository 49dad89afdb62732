DELETE FROM {schema}.messages WHERE id = %s AND state = 'queued'
