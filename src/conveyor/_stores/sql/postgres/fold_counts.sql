-- Move the accumulated count deltas into counts (a no-op while another session folds).
SELECT {schema}.fold_counts()
