-- Counts of messages per worker and state, so that status() answers in milliseconds with millions of
-- messages queued (counting them through the indexes takes hundreds of milliseconds at 1,000,000).
--
-- A counter row per (worker, state) updated by every emit would make all emitters of a worker, on every
-- host, wait on that one row lock. Instead every statement that adds, deletes or moves messages between
-- states APPENDS its net change, aggregated per (worker, state), to count_deltas: one row per worker and
-- state touched, whatever the number of messages; no row is ever updated, so no lock is shared between
-- transactions.
--
-- Every statement of the store that inserts, deletes or moves messages (enqueue*.sql, claim.sql,
-- complete.sql, retry.sql, incomplete.sql, bury.sql, release.sql, rescue.sql, cancel.sql, purge.sql,
-- retry_dead.sql, discard_dead.sql) appends its delta itself, in the same statement, as a data-modifying
-- CTE over its RETURNING rows. Statement-level AFTER triggers with transition tables would do it for any
-- statement, but cost a quarter of the single-emit rate (pgbench, single-row autocommitted inserts:
-- 6,700-7,500/s without, 4,700-5,200/s with an AFTER INSERT trigger; the CTE: within the noise) and
-- 30-300 us on a claim or settle of one message (bench.pg_store --only claim). A statement written by
-- hand that changes messages is not counted: run SELECT {schema}.recount() after it. TRUNCATE resets the counts (trigger below).
--
-- fold_counts() (called by rescue(), which every runner calls every few seconds, and by counts()) moves
-- the deltas into counts, one folder at a time. The true count of a (worker, state) is its counts row plus
-- its remaining deltas: both are read in one snapshot, and a fold commits its delete and its update
-- together, so a reader never sees a delta twice or not at all.
CREATE TABLE {schema}.counts (
  worker text   NOT NULL,
  state  text   NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (worker, state)
);
CREATE TABLE {schema}.count_deltas (
  worker text   NOT NULL,
  state  text   NOT NULL,
  n      bigint NOT NULL
);
-- Rows come and go every few seconds: vacuum it early so reading it stays cheap.
ALTER TABLE {schema}.count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                                       autovacuum_vacuum_insert_scale_factor = 0,
                                       autovacuum_vacuum_insert_threshold = 1000);

-- Fold the deltas into counts, unless another session is folding right now (it takes them all: this one
-- has nothing to add). Returns the number of delta rows folded. Only a folder writes counts, so counts
-- rows are never contended by emitters or claims.
CREATE FUNCTION {schema}.fold_counts() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  folded integer := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('conveyor-counts'), hashtext('{schema}')) THEN
    RETURN 0;
  END IF;
  WITH d AS (DELETE FROM {schema}.count_deltas RETURNING worker, state, n),
       g AS (SELECT worker, state, sum(n) AS n, count(*) AS k FROM d GROUP BY worker, state),
       u AS (INSERT INTO {schema}.counts AS c (worker, state, n)
             SELECT worker, state, n FROM g
             ON CONFLICT (worker, state) DO UPDATE SET n = c.n + excluded.n)
  SELECT coalesce(sum(k), 0) INTO folded FROM g;
  DELETE FROM {schema}.counts WHERE n = 0;
  RETURN folded;
END
$$;

-- Count every message again, from the messages table: what the migration does, and the way back after
-- messages were inserted by hand (not through Conveyor's statements), e.g. SELECT conveyor.recount().
-- The SHARE lock waits for every transaction writing messages to end and keeps new ones out meanwhile.
CREATE FUNCTION {schema}.recount() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE {schema}.messages IN SHARE MODE;
  PERFORM pg_advisory_xact_lock(hashtext('conveyor-counts'), hashtext('{schema}'));
  DELETE FROM {schema}.count_deltas;
  DELETE FROM {schema}.counts;
  INSERT INTO {schema}.counts (worker, state, n)
  SELECT worker, state, count(*) FROM {schema}.messages GROUP BY worker, state;
END
$$;

-- TRUNCATE (which fires no DELETE trigger) leaves nothing to count.
CREATE FUNCTION {schema}.count_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('conveyor-counts'), hashtext('{schema}'));
  DELETE FROM {schema}.count_deltas;
  DELETE FROM {schema}.counts;
  RETURN NULL;
END
$$;
CREATE TRIGGER messages_count_truncate AFTER TRUNCATE ON {schema}.messages
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.count_truncated();

-- The messages already there.
SELECT {schema}.recount();
