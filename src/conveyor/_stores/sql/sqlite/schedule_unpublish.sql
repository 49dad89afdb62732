DELETE FROM schedule_defs WHERE runner = ?
