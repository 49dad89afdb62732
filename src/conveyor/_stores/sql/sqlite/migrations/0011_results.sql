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
