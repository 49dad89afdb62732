SELECT DISTINCT w.worker
FROM {schema}.runners AS r, unnest(r.workers) AS w (worker)
WHERE r.seen_at >= date_part('epoch', now()) - %s
