-- Whether the schema holds Conveyor's tables (its migration ledger): reads never create a store.
SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'migrations')
