UPDATE schedule_state SET last_at = max(coalesce(last_at, :upto), :upto), updated_at = :now WHERE name = :name
