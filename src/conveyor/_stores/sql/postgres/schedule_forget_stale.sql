-- Definitions of runners not seen for the runner TTL (killed, or their host lost).
DELETE FROM {schema}.schedule_defs WHERE seen_at < date_part('epoch', now()) - %s
