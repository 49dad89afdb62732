DELETE FROM {schema}.runners WHERE id = %s
