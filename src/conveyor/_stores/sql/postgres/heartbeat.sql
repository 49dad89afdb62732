UPDATE {schema}.messages SET lease_until = date_part('epoch', now()) + %(lease)s
WHERE state = 'running' AND runner = %(runner)s
