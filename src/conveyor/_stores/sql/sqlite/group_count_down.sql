UPDATE groups SET remaining = remaining - :k WHERE id = :id RETURNING remaining
