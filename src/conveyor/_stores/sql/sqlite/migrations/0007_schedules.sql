-- Schedules (docs/schedules.md). Runners publish the schedules their app defines (schedule_defs, one
-- row per runner and schedule, refreshed while the runner lives); schedule_state holds what outlives
-- any runner: paused, the newest tick emitted (last_at) and since when the schedule is known (since:
-- no tick before it is missed). schedule_ticks is the exactly-once record: one row per emitted
-- (schedule, tick), written in the same transaction as the tick's message.
CREATE TABLE schedule_defs (
  runner  TEXT NOT NULL,
  name    TEXT NOT NULL,
  worker  TEXT NOT NULL,
  cron    TEXT,
  every   REAL,
  tz      TEXT NOT NULL,
  misfire TEXT NOT NULL,
  seen_at REAL NOT NULL,
  PRIMARY KEY (runner, name)
) WITHOUT ROWID;
CREATE TABLE schedule_state (
  name       TEXT PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  last_at    REAL,
  since      REAL NOT NULL,
  updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE schedule_ticks (
  name       TEXT NOT NULL,
  tick       REAL NOT NULL,
  PRIMARY KEY (name, tick)
) WITHOUT ROWID;
