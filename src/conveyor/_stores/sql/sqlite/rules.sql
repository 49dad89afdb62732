SELECT worker, paused, blocked FROM rules WHERE paused OR blocked IS NOT NULL
