DELETE FROM {schema}.messages
WHERE state = 'dead' AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
  AND (%(worker)s::text IS NULL OR worker = %(worker)s::text)
