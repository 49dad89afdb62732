-- Lighter claims and acks: each piece removed here was a write per message, inside the write lock that
-- every runner process on the file takes in turn (docs/benchmarks.md).
-- * messages_lease: rescue and heartbeats find running messages through messages_running instead (a
--   runner has at most its slots running, so that partial index stays small).
-- * id_floor_delete: a per-row trigger that rewrote id_floor on nearly every ack. The statements that
--   delete messages now raise the floor once per transaction, first (raise_id_floor.sql).
DROP INDEX messages_lease;
DROP TRIGGER id_floor_delete;
