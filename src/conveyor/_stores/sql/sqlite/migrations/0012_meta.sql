-- Message meta (docs/hooks.md): str -> str set by on_emit hooks (a W3C traceparent, a tenant), as JSON
-- text, carried with the message through retries and snoozes. Messages without meta leave it NULL (no
-- rewrite, nothing more written per emit); a group's then message keeps its meta in the group until it fires.
ALTER TABLE messages ADD COLUMN meta TEXT;
ALTER TABLE groups ADD COLUMN meta TEXT;
