-- Schedules (docs/schedules.md). Runners publish the schedules their app defines (schedule_defs, one
-- row per runner and schedule, refreshed while the runner lives); schedule_state holds what outlives
-- any runner: paused, the newest tick emitted (last_at) and since when the schedule is known (since:
-- no tick before it is missed). schedule_ticks is the exactly-once record: one row per emitted
-- (schedule, tick), written in the same transaction as the tick's message.
CREATE TABLE {schema}.schedule_defs (
  runner  text             NOT NULL,
  name    text             NOT NULL,
  worker  text             NOT NULL,
  cron    text,
  every   double precision,
  tz      text             NOT NULL,
  misfire text             NOT NULL,
  seen_at double precision NOT NULL,
  PRIMARY KEY (runner, name)
);
CREATE TABLE {schema}.schedule_state (
  name       text             PRIMARY KEY,
  paused     boolean          NOT NULL DEFAULT false,
  last_at    double precision,
  since      double precision NOT NULL,
  updated_at double precision NOT NULL
);
CREATE TABLE {schema}.schedule_ticks (
  name text             NOT NULL,
  tick double precision NOT NULL,
  PRIMARY KEY (name, tick)
);
