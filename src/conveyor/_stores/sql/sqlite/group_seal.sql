-- The group's members (a JSON array of message ids), all of them still to finish.
UPDATE groups SET members = :members, remaining = json_array_length(:members) WHERE id = :id
