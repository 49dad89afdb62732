DELETE FROM {schema}.messages WHERE worker = %s AND state = 'queued'
