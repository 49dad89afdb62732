-- Keep the newest :keep traces of each worker, and apart from them its newest :keep failures.
DELETE FROM {schema}.traces AS t
USING unnest(%(workers)s::text[], %(keeps)s::integer[]) AS k (worker, keep)
WHERE t.worker = k.worker
  AND t.id < (SELECT coalesce(min(a.id), 0) FROM
                (SELECT id FROM {schema}.traces WHERE worker = k.worker ORDER BY id DESC LIMIT k.keep) AS a)
  AND (t.outcome = 'ok'
       OR t.id < (SELECT coalesce(min(b.id), 0) FROM
                    (SELECT id FROM {schema}.traces WHERE worker = k.worker AND outcome <> 'ok'
                     ORDER BY id DESC LIMIT k.keep) AS b))
