-- Counts kept per statement, not per row. The counts_update and counts_delete triggers rewrote two
-- counts rows for every message claimed and one for every message acknowledged, inside the write lock
-- that every runner process on the file takes in turn. Each statement that moves or deletes messages
-- now returns the workers (and states) it touched, and the store adds the net change per (worker,
-- state) once (count_add.sql), in the same transaction, as the PostgreSQL store does. New messages are
-- still counted by counts_insert (one row per emit). A statement written by hand that changes a
-- message's state or deletes messages is not counted: run recount.sql (`sqlite3 conveyor.db
-- < recount.sql`, or see docs/running.md) after it.
DROP TRIGGER counts_delete;
DROP TRIGGER counts_update;
DELETE FROM counts;
INSERT INTO counts (worker, state, n) SELECT worker, state, count(*) FROM messages GROUP BY worker, state;
