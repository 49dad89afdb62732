-- Run before a statement deletes messages: the floor of new ids (id_floor, see 0001_init.sql) becomes
-- at least the highest id there is, so no id about to go can be given out again. max(id) of an
-- INTEGER PRIMARY KEY is one B-tree descent.
UPDATE id_floor SET n = (SELECT max(id) FROM messages) WHERE (SELECT max(id) FROM messages) > n
