-- How long an idle runner may sleep: seconds from now until the earliest queued message of the named
-- workers (paused and blocked workers left out) with run_at after now minus %(margin)s falls due (NULL:
-- none; zero or less: one fell due since the runner's last claim). One index probe per worker
-- (messages_ready).
SELECT min(d.run_at) - date_part('epoch', now())
FROM unnest(%(workers)s::text[]) AS w (worker)
CROSS JOIN LATERAL (
  SELECT q.run_at FROM {schema}.messages AS q
  WHERE q.worker = w.worker AND q.state = 'queued' AND q.run_at > date_part('epoch', now()) - %(margin)s
  ORDER BY q.run_at
  LIMIT 1
) AS d
WHERE NOT EXISTS (SELECT 1 FROM {schema}.rules AS r
                  WHERE r.worker = w.worker AND (r.paused OR r.blocked IS NOT NULL))
