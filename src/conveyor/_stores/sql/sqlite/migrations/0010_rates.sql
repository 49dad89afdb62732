-- Global rate limits (docs/flow-control.md, _rates.py): one bucket per rate-limited worker, read and moved
-- on by the claims that start its messages. n and period are the rate the last claim ran under (shown by
-- status); tat is the bucket's theoretical arrival time (GCRA), seconds since the epoch.
CREATE TABLE rates (
  worker TEXT PRIMARY KEY,
  n      INTEGER NOT NULL,
  period REAL NOT NULL,
  tat    REAL NOT NULL
) WITHOUT ROWID;
