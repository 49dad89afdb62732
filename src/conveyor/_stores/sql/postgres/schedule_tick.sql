-- The exactly-once records of ticks: a tick already emitted returns no row.
INSERT INTO {schema}.schedule_ticks (name, tick)
SELECT * FROM unnest(%s::text[], %s::float8[])
ON CONFLICT DO NOTHING
RETURNING name, tick
