-- What is known of each message id: its message's state and last error (if it still has a row) and
-- its kept, unexpired outcome (if any).
SELECT j.id, m.state, m.last_error, r.outcome, r.value, r.is_repr, r.error, r.finished_at
FROM unnest(%(ids)s::bigint[]) AS j (id)
LEFT JOIN {schema}.messages AS m ON m.id = j.id
LEFT JOIN {schema}.results AS r ON r.message_id = j.id AND r.expires_at > date_part('epoch', now())
