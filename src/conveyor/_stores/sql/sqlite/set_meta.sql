-- A message's meta (docs/hooks.md), written after its insert in the same transaction: the inserts stay
-- those of messages without meta, which therefore cost nothing more.
UPDATE messages SET meta = ? WHERE id = ?
