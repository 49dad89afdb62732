-- The buckets of the rate-limited workers of :workers (a JSON list), read by a claim in its own write
-- transaction before it counts their room (_rates.py).
SELECT r.worker, r.tat FROM rates AS r JOIN json_each(:workers) AS j ON j.value = r.worker
