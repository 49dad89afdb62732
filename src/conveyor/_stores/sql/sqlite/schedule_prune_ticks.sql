-- Tick records older than the newest tick minus a day: no ticker tries a tick older than last_at.
DELETE FROM schedule_ticks WHERE name = ? AND tick < ?
