LISTEN "{channel}:r"
