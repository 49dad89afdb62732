SELECT worker, paused, blocked FROM {schema}.rules WHERE paused OR blocked IS NOT NULL
