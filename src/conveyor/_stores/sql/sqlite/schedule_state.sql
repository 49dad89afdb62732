SELECT paused, last_at FROM schedule_state WHERE name = ?
