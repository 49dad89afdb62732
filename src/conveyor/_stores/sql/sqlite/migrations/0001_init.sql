-- Messages: queued (run_at <= now), scheduled (queued, run_at > now), running, dead.
-- A finished message is deleted; the trace is what remains of it.
CREATE TABLE messages (
  id          INTEGER PRIMARY KEY,  -- never reused: see id_floor
  worker      TEXT    NOT NULL,
  event       TEXT    NOT NULL,
  state       TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'dead')),
  enqueued_at REAL    NOT NULL,
  run_at      REAL    NOT NULL,
  attempt     INTEGER NOT NULL DEFAULT 0,
  parent_id   INTEGER,
  root_id     INTEGER,
  key         TEXT,
  chain       TEXT,
  looped      INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  runner      TEXT,
  lease_until REAL,
  started_at  REAL
);
CREATE INDEX messages_ready   ON messages (worker, run_at, id) WHERE state = 'queued';
CREATE INDEX messages_running ON messages (worker, runner) WHERE state = 'running';
CREATE INDEX messages_lease   ON messages (lease_until) WHERE state = 'running';
CREATE INDEX messages_dead    ON messages (worker, id) WHERE state = 'dead';
CREATE INDEX messages_loops   ON messages (root_id, worker) WHERE looped = 1;
CREATE UNIQUE INDEX messages_key ON messages (key) WHERE key IS NOT NULL AND state IN ('queued', 'running');

-- Message ids are never reused, so a stale id can never cancel another message. SQLite gives a new row
-- max(id) + 1, which would reuse the id of a deleted newest message; AUTOINCREMENT prevents that at the
-- cost of a write per insert. Instead, deleting a message records the highest id deleted, and the
-- enqueue statement takes max(max(id), id_floor) + 1: inserts only read it.
CREATE TABLE id_floor (n INTEGER NOT NULL);
INSERT INTO id_floor (n) VALUES (0);
CREATE TRIGGER id_floor_delete AFTER DELETE ON messages WHEN old.id > (SELECT n FROM id_floor) BEGIN
  UPDATE id_floor SET n = old.id;
END;

CREATE TABLE rules (
  worker     TEXT PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  blocked    TEXT,
  updated_at REAL NOT NULL
);

CREATE TABLE traces (
  id          INTEGER PRIMARY KEY,
  message_id  INTEGER NOT NULL,
  worker      TEXT    NOT NULL,
  outcome     TEXT    NOT NULL,
  event       TEXT    NOT NULL,
  result      TEXT,
  error       TEXT,
  traceback   TEXT,
  logs        TEXT    NOT NULL,
  emitted     TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  enqueued_at REAL    NOT NULL,
  started_at  REAL    NOT NULL,
  finished_at REAL    NOT NULL
);
CREATE INDEX traces_worker ON traces (worker, id);
CREATE INDEX traces_failed ON traces (worker, id) WHERE outcome <> 'ok';

CREATE TABLE runners (
  id         TEXT PRIMARY KEY,
  workers    TEXT NOT NULL,
  started_at REAL NOT NULL,
  seen_at    REAL NOT NULL
);
