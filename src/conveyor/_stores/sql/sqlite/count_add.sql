-- Add a statement's net change to one (worker, state) count (migrations/0005_statement_counts.sql).
INSERT INTO counts (worker, state, n) VALUES (?, ?, ?)
ON CONFLICT (worker, state) DO UPDATE SET n = n + excluded.n
