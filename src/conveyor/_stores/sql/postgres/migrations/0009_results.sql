-- Results (docs/results.md): the outcome of each finished message of a worker with results=, kept until
-- expires_at. Written by the settle that finishes the message, in its transaction; removed by runners in
-- bounded batches once expired. Only workers with results= write here: the others never touch it.
-- outcome: 'ok' (value: the return value as JSON text, or its repr as a JSON string when is_repr),
-- 'dead' or 'cancelled' (error: the last error).
CREATE TABLE {schema}.results (
  message_id  bigint           PRIMARY KEY,
  worker      text             NOT NULL,
  outcome     text             NOT NULL,
  value       text,
  is_repr     boolean          NOT NULL DEFAULT false,
  error       text,
  finished_at double precision NOT NULL,
  expires_at  double precision NOT NULL
);
CREATE INDEX results_expiry ON {schema}.results (expires_at);
