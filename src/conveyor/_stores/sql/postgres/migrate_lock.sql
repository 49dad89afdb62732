-- Hosts starting at once migrate one after the other (held until the migration transaction ends).
SELECT pg_advisory_xact_lock(hashtext('conveyor-migrate'), hashtext('{channel}'))
