-- Wake result waiters (their own channel: idle runners are not woken by it).
SELECT pg_notify('{channel}:r', '')
