-- One group at a time, in id order (the caller's): runners finishing members of the same groups lock
-- them in one order and never deadlock.
UPDATE {schema}.groups SET remaining = remaining - %(k)s WHERE id = %(id)s RETURNING remaining
