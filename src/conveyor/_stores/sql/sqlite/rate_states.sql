-- Every bucket: the rate its last claim ran under, and seconds from :now until it allows a start (zero
-- or less: now).
SELECT worker, n, period, tat - period + period / n - :now FROM rates ORDER BY worker
