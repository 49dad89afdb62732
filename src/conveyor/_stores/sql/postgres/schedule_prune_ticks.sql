-- Tick records older than the newest tick minus a day: no ticker tries a tick older than last_at.
DELETE FROM {schema}.schedule_ticks WHERE name = %s AND tick < %s
