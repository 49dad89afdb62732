-- The group's members, all of them still to finish: their group_members rows and the count.
WITH joined AS (
  INSERT INTO {schema}.group_members (message_id, group_id)
  SELECT unnest(%(ids)s::bigint[]), %(id)s
)
UPDATE {schema}.groups SET members = %(members)s, remaining = cardinality(%(ids)s::bigint[]) WHERE id = %(id)s
