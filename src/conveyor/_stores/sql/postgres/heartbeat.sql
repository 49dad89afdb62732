-- Only the messages the runner knows it holds (see PostgresStore.heartbeat).
UPDATE {schema}.messages SET lease_until = date_part('epoch', now()) + %(lease)s
WHERE state = 'running' AND runner = %(runner)s AND id = ANY(%(ids)s::bigint[])
