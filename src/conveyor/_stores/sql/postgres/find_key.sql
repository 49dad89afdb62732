-- The message holding a worker's dedup key (one probe of the unique index messages_key).
SELECT id FROM {schema}.messages WHERE worker = %s AND key = %s AND state IN ('queued', 'running')
