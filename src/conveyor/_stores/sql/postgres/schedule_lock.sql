-- Held until the ticks' transaction ends: tickers of one schedule emit one after the other (rows are
-- locked in name order, so tickers locking many schedules never wait for each other in a circle).
SELECT name, paused, last_at FROM {schema}.schedule_state WHERE name = ANY(%s::text[]) ORDER BY name FOR UPDATE
