-- Definitions of runners not seen for the runner TTL (killed, or their host lost).
DELETE FROM schedule_defs WHERE seen_at < ?
