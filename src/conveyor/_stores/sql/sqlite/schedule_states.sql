SELECT name, paused, last_at, since FROM schedule_state
