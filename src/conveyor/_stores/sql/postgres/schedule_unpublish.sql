DELETE FROM {schema}.schedule_defs WHERE runner = %s
