-- What is known of each message id in :ids (a JSON array): its message's state and last error (if it
-- still has a row) and its kept, unexpired outcome (if any).
SELECT j.value, m.state, m.last_error, r.outcome, r.value, r.is_repr, r.error, r.finished_at
FROM json_each(:ids) AS j
LEFT JOIN messages AS m ON m.id = j.value
LEFT JOIN results AS r ON r.message_id = j.value AND r.expires_at > :now
