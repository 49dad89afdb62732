-- Members finished (done, dead letters or cancelled): each leaves its group, once.
DELETE FROM {schema}.group_members WHERE message_id = ANY(%(ids)s::bigint[]) RETURNING group_id
