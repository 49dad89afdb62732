-- Handler control (docs/flow-control.md): how many times a message was sent back by Incomplete.
-- Existing rows start at 0 (nothing counted them before); a constant default rewrites no row.
ALTER TABLE {schema}.messages ADD COLUMN snoozes integer NOT NULL DEFAULT 0;
