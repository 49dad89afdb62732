-- A claim started :k messages of a rate-limited worker: move its bucket on by k intervals (period / n)
-- from its tat, or from :now if the bucket has been idle since (GCRA).
INSERT INTO rates (worker, n, period, tat) VALUES (:worker, :n, :period, :now + :k * :period / :n)
ON CONFLICT (worker) DO UPDATE SET
  n = excluded.n, period = excluded.period, tat = max(rates.tat, :now) + :k * excluded.period / excluded.n
