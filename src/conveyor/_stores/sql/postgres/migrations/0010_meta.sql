-- Message meta (docs/hooks.md): str -> str set by on_emit hooks (a W3C traceparent, a tenant), as JSON
-- text, carried with the message through retries and snoozes. Messages without meta leave it NULL (a
-- constant default: no rewrite); a group's then message keeps its meta in the group until it fires.
ALTER TABLE {schema}.messages ADD COLUMN meta text;
ALTER TABLE {schema}.groups ADD COLUMN meta text;
