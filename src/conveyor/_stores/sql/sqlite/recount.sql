-- Count every message again, in one statement: run it after changing messages by hand (the store keeps
-- counts itself; see migrations/0005_statement_counts.sql). sqlite3 conveyor.db < recount.sql
INSERT INTO counts (worker, state, n)
SELECT worker, state, n FROM (
  SELECT worker, state, count(*) AS n FROM messages GROUP BY worker, state
  UNION ALL
  SELECT worker, state, 0 FROM counts AS c
  WHERE NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.worker = c.worker AND m.state = c.state)
) WHERE true
ON CONFLICT (worker, state) DO UPDATE SET n = excluded.n;
