"""The app ``python -m bench.schedules`` runs with ``conveyor run``: $BENCH_SCHEDULES schedules (default 1),
``bench-000``…, ticking every $BENCH_EVERY seconds (default 1) to ``tick``, whose handler appends one line
to $BENCH_RECORDS: the message's key, its enqueued_at and the handler's own start (epoch seconds).
"""

from __future__ import annotations

import os
import time
from typing import Any

import conveyor

app = conveyor.App()
RECORDS = os.environ.get("BENCH_RECORDS", "schedule-records.txt")


@app.worker("tick", traces=0)
def tick(event: Any, msg: conveyor.Message) -> None:
    started = time.time()
    fd = os.open(RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{msg.key} {msg.enqueued_at.timestamp()!r} {started!r}\n".encode())
    finally:
        os.close(fd)


for i in range(int(os.environ.get("BENCH_SCHEDULES", "1"))):
    app.schedule(f"bench-{i:03d}", "tick", every=float(os.environ.get("BENCH_EVERY", "1")))
