DELETE FROM runners WHERE id = ?
