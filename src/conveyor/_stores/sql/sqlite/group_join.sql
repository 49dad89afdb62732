INSERT INTO group_members (message_id, group_id) VALUES (?, ?)
