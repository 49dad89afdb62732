-- Drop the CHECK on messages.state. PostgreSQL prepares a table's CHECK expressions anew for every
-- statement that inserts into it, and for a one-row emit that cost about 10 us, 5-7 % of the whole
-- autocommitted emit (bench/pg_store.py --only emit; docs/benchmarks.md). Only the store's own
-- statements write state, each with a literal 'queued', 'running' or 'dead'; the contract tests check
-- every transition.
ALTER TABLE {schema}.messages DROP CONSTRAINT IF EXISTS messages_state_check;
