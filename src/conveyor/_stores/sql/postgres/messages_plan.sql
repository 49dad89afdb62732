-- For messages.sql, in its transaction only: walk each worker's index in order and stop at :limit, even
-- when the table has no statistics yet (then the planner would fetch every message of each worker through
-- a bitmap scan and sort them: seconds at 1,000,000 queued).
SELECT set_config('enable_bitmapscan', 'off', true)
