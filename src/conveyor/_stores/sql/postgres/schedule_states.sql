SELECT name, paused, last_at, since FROM {schema}.schedule_state
