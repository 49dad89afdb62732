-- Held until the tick's transaction ends: tickers of one schedule emit one after the other.
SELECT paused, last_at FROM {schema}.schedule_state WHERE name = %s FOR UPDATE
