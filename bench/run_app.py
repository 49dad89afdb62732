"""The app the runner benchmarks start (``bench/run_*.py``); store from $CONVEYOR_STORE.

Run as a script it calls ``app.run(**json.loads(argv[1]))``, exactly what ``conveyor run`` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import conveyor

app = conveyor.App()
RECORDS = os.environ.get("BENCH_RUN_RECORDS", "")


@app.worker("noop")
def noop(event: Any) -> None:
    return None


@app.worker("anoop")
async def anoop(event: Any) -> None:
    return None


@app.worker("sleep")
async def sleep(event: Any) -> None:
    await asyncio.sleep(event["s"])


@app.worker("latency", traces=0)
def latency(event: Any) -> None:
    now = time.time()
    fd = os.open(RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event['i']} {event['t']!r} {now!r}\n".encode())
    finally:
        os.close(fd)


if __name__ == "__main__":
    app.run(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}"))
