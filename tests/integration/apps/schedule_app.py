"""The app of the schedule process tests, run as ``conveyor run .../schedule_app.py:app``.

Three schedules tick every second, one per misfire policy (``every-latest``, ``every-all``,
``every-skip``), to one worker, ``record``, which appends one JSON line per run to $SCHEDULE_DIR/handled
(one short O_APPEND write: atomic across processes): the message's key, id, event and enqueued_at
(epoch seconds), the runner's pid and the time it ran. The store comes from --store, the lease (how soon
a killed runner's message is run again) from $SCHEDULE_LEASE.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import conveyor

POLICIES = ("latest", "all", "skip")

app = conveyor.App(lease=float(os.environ.get("SCHEDULE_LEASE", "1.0")))
OUT = Path(os.environ.get("SCHEDULE_DIR", ".")) / "handled"


@app.worker("record", traces=0, max_attempts=50, backoff=0)
def record(event: Any, msg: conveyor.Message) -> None:
    line = [msg.key, msg.id, event, msg.enqueued_at.timestamp(), os.getpid(), time.time()]
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


for policy in POLICIES:
    app.schedule(f"every-{policy}", "record", every=1, misfire=policy)
