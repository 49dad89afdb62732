-- Runner bookkeeping (claims, acks, heartbeats) on a pooled connection, for this transaction only (the
-- store's runner-lane connections have the same settings for their whole session: runner_session.sql):
-- * do not wait for the WAL flush at commit. A crash of the server can then take back the last few of
--   these, which at-least-once delivery already covers: the message runs again. Emits never use this:
--   an acknowledged emit is durable.
-- * use the prepared statement's generic plan instead of planning the claim again on every call.
SELECT set_config('synchronous_commit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)
