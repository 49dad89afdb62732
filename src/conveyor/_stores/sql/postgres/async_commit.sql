-- For runner bookkeeping (claims, acks, heartbeats): do not wait for the WAL flush at commit. A crash of
-- the server can then take back the last few of these, which at-least-once delivery already covers: the
-- message runs again. Emits never use this: an acknowledged emit is durable.
SET LOCAL synchronous_commit TO off
