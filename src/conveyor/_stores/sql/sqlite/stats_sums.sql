-- The dashboard's workers list: per minute from :since to :until and worker, the runs finished and failed
-- (no histogram read).
SELECT minute, worker, processed, failed FROM stats WHERE minute >= :since AND minute < :until
