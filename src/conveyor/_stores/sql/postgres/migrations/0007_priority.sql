-- Priorities (docs/flow-control.md): an int from -100 to 100, higher claimed first within a worker.
-- Existing rows keep their place: they get the default, 0 (a constant default rewrites no row).
-- Messages of the default priority stay in messages_ready alone (claimed by run_at, then id, as
-- before); the others are also in messages_ranked, a partial index an emit of the default priority
-- never writes, so priorities cost nothing until used.
ALTER TABLE {schema}.messages ADD COLUMN priority smallint NOT NULL DEFAULT 0;
CREATE INDEX messages_ranked ON {schema}.messages (worker, priority DESC, run_at, id)
  WHERE state = 'queued' AND priority <> 0;
