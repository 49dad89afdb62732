-- Tick records older than the newest tick minus a day: no ticker tries a tick older than last_at.
DELETE FROM {schema}.schedule_ticks AS t
USING unnest(%(names)s::text[], %(befores)s::float8[]) AS u (name, before)
WHERE t.name = u.name AND t.tick < u.before
