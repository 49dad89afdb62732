-- The stats rows of one worker over the last %(minutes)s minutes (the current one included).
SELECT worker, minute, processed, failed, retried, dead, wait, run
FROM {schema}.stats
WHERE worker = %(worker)s AND minute >= (floor(date_part('epoch', now()) / 60) - %(minutes)s + 1) * 60
ORDER BY minute
