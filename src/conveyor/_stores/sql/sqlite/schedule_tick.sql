-- The exactly-once record of one tick: no row when the tick was already emitted.
INSERT INTO schedule_ticks (name, tick) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING tick
