-- Find the traces of one message (the dashboard links a message to its runs).
CREATE INDEX traces_message ON traces (message_id);
