UPDATE messages INDEXED BY messages_running SET lease_until = :now + :lease
WHERE state = 'running' AND runner = :runner
