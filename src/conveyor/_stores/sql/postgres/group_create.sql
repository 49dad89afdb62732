-- A new group and what its `then` message will be (its members are added by group_seal.sql).
INSERT INTO {schema}.groups (remaining, members, worker, event, delay, priority, parent_id, root_id, chain, looped, meta)
VALUES (0, '[]', %(worker)s, %(event)s, %(delay)s, %(priority)s, %(parent_id)s, %(root_id)s, %(chain)s, %(looped)s,
        %(meta)s)
RETURNING id
