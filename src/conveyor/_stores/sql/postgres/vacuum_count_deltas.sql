-- After a fold: reclaim the deleted delta rows now rather than whenever autovacuum comes (it may be
-- off, or slow on a busy server): the deltas are read by every counts() and every fold, and their dead
-- rows would make both slower by the minute under load. A small table: milliseconds. SKIP_LOCKED: if
-- another session vacuums it, skip rather than wait.
VACUUM (SKIP_LOCKED) {schema}.count_deltas
