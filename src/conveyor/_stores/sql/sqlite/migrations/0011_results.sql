-- Results (docs/results.md): the outcome of each finished message of a worker with results=, kept until
-- expires_at. Written by the settle that finishes the message, in its transaction; removed by runners in
-- bounded batches once expired. Only workers with results= write here: the others never touch it.
-- outcome: 'ok' (value: the return value as JSON text, or its repr as a JSON string when is_repr),
-- 'dead' or 'cancelled' (error: the last error).
CREATE TABLE results (
  message_id  INTEGER PRIMARY KEY,
  worker      TEXT    NOT NULL,
  outcome     TEXT    NOT NULL,
  value       TEXT,
  is_repr     INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  finished_at REAL    NOT NULL,
  expires_at  REAL    NOT NULL
);
CREATE INDEX results_expiry ON results (expires_at);

-- Groups (fan-in, docs/results.md): emit_many(items, then=(event, worker)). Each member message carries
-- its group_id and has a group_members row until it finishes (done, a dead letter or cancelled); the
-- settle that removes the last one emits the group's `then` message (group_ids: the members, as JSON)
-- and deletes the group, in its transaction. Messages outside groups leave both columns NULL (no rewrite).
ALTER TABLE messages ADD COLUMN group_id INTEGER;
ALTER TABLE messages ADD COLUMN group_ids TEXT;
CREATE TABLE groups (
  id        INTEGER PRIMARY KEY,
  remaining INTEGER NOT NULL,
  members   TEXT    NOT NULL,
  worker    TEXT    NOT NULL,
  event     TEXT    NOT NULL,
  delay     REAL    NOT NULL,
  priority  INTEGER NOT NULL,
  parent_id INTEGER,
  root_id   INTEGER,
  chain     TEXT,
  looped    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE group_members (
  message_id INTEGER PRIMARY KEY,
  group_id   INTEGER NOT NULL
);
