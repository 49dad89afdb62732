-- Runner bookkeeping connections (claims and acks), for their whole session; emits never run on them:
-- * do not wait for the WAL flush at commit. A crash of the server can then take back the last few
--   claims and acks, which at-least-once delivery already covers: the message runs again. An
--   acknowledged emit stays durable.
-- * use the prepared claim's generic plan: its plan does not depend on the parameters, so it is planned
--   once per connection instead of on every call.
SET synchronous_commit = off;
SET plan_cache_mode = force_generic_plan
