SELECT DISTINCT w.value FROM runners, json_each(runners.workers) AS w WHERE runners.seen_at >= ?
