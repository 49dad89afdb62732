-- A member finished (done, a dead letter or cancelled): it leaves its group, once.
DELETE FROM group_members WHERE message_id = ? RETURNING group_id
