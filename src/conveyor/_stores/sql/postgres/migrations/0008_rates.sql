-- Global rate limits (docs/flow-control.md, _rates.py): one bucket per rate-limited worker, read and moved
-- on by the claims that start its messages. n and period are the rate the last claim ran under (shown by
-- status); tat is the bucket's theoretical arrival time (GCRA), seconds since the epoch.
CREATE TABLE {schema}.rates (
  worker text PRIMARY KEY,
  n      integer NOT NULL,
  period double precision NOT NULL,
  tat    double precision NOT NULL
);

-- The starts a rate-limited worker may make now, read after waiting for every other claim of that worker
-- to commit: as capped_room (0001_init.sql), a transaction-scoped advisory lock per (schema, worker),
-- held until the claiming statement commits, then the bucket read in a fresh snapshot; claim.sql moves
-- the bucket on by what it started, in the same statement. Claims of one rate-limited worker are so
-- serialized across all hosts and never start more than its rate allows.
CREATE FUNCTION {schema}.rated_room(p_worker text, p_n integer, p_period double precision) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  ahead double precision;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('conveyor-rate:{schema}'), hashtext(p_worker));
  SELECT greatest(b.tat - date_part('epoch', now()), 0) INTO ahead FROM {schema}.rates AS b
  WHERE b.worker = p_worker;
  RETURN greatest(0, least(p_n, floor((p_period - coalesce(ahead, 0)) / (p_period / p_n) + 1e-9)::integer));
END
$$;
