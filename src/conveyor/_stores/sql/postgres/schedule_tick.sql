-- The exactly-once record of one tick: no row when the tick was already emitted.
INSERT INTO {schema}.schedule_ticks (name, tick) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING tick
