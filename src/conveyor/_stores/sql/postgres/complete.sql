DELETE FROM {schema}.messages WHERE id = ANY(%(ids)s::bigint[])
