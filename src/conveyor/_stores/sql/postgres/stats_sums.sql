-- The dashboard's workers list: per minute from :since to :until and worker, the runs finished and failed
-- (no histogram read).
SELECT minute, worker, processed, failed FROM {schema}.stats WHERE minute >= %(since)s AND minute < %(until)s
