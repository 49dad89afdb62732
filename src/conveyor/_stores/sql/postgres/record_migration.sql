INSERT INTO {schema}.migrations (version, name) VALUES (%s, %s)
