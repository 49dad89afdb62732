UPDATE messages SET lease_until = :now + :lease WHERE state = 'running' AND runner = :runner
