-- Handler control (docs/flow-control.md): how many times a message was sent back by Incomplete.
-- Existing rows start at 0 (nothing counted them before).
ALTER TABLE messages ADD COLUMN snoozes INTEGER NOT NULL DEFAULT 0;
