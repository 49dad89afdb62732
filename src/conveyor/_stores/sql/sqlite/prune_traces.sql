-- Keep the newest :keep traces of a worker, and apart from them its newest :keep failures.
DELETE FROM traces
WHERE worker = :worker
  AND id < (SELECT coalesce(min(id), 0) FROM
              (SELECT id FROM traces WHERE worker = :worker ORDER BY id DESC LIMIT :keep))
  AND (outcome = 'ok'
       OR id < (SELECT coalesce(min(id), 0) FROM
                  (SELECT id FROM traces WHERE worker = :worker AND outcome <> 'ok'
                   ORDER BY id DESC LIMIT :keep)))
