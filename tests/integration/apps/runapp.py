"""An app for the runner tests, run as ``python runapp.py '{"processes": 2, ...}'`` (App.run's arguments).

The store comes from $CONVEYOR_STORE, the lease from $RUNAPP_LEASE, and handlers write what they saw
as lines in files under $RUNAPP_DIR (appends of one short line are atomic across processes).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import conveyor

app = conveyor.App(lease=float(os.environ.get("RUNAPP_LEASE", "30")))
OUT = Path(os.environ.get("RUNAPP_DIR", "."))
CAP = int(os.environ.get("RUNAPP_CAP", "2"))


def note(name: str, *fields: object) -> None:
    line = " ".join(str(f) for f in fields) + "\n"
    fd = os.open(OUT / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.worker("noop")
def noop(event: Any) -> None:
    pass


@app.worker("anoop")
async def anoop(event: Any) -> None:
    pass


@app.worker("nap")
async def nap(event: Any) -> None:
    await asyncio.sleep(event.get("seconds", 0.05))


@app.worker("done", traces=0)
def done(event: Any) -> None:
    note("done", event["i"], os.getpid())


@app.worker("capped", concurrency=CAP)
def capped(event: Any) -> None:
    start = time.time()
    time.sleep(event.get("seconds", 0.3))
    note("capped", event["i"], os.getpid(), start, time.time())


@app.worker("slow")
def slow(event: Any) -> None:
    note("slow-start", event["i"], os.getpid())
    time.sleep(event["seconds"])
    note("slow-end", event["i"], os.getpid())


@app.worker("aslow")
async def aslow(event: Any) -> None:
    note("aslow-start", event["i"], os.getpid())
    await asyncio.sleep(event["seconds"])
    note("aslow-end", event["i"], os.getpid())


@app.worker("poison", max_attempts=2, backoff=0)
def poison(event: Any) -> None:
    note("poison", os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


@app.worker("stuck", timeout=0.5, max_attempts=1)
def stuck(event: Any) -> None:
    note("stuck", os.getpid())
    time.sleep(event.get("seconds", 60))


@app.worker("astuck", timeout=0.3, max_attempts=1)
async def astuck(event: Any) -> None:
    await asyncio.sleep(60)


@app.worker("latency", traces=0)
def latency(event: Any, msg: conveyor.Message) -> None:
    note("latency", time.time() - msg.enqueued_at.timestamp())


@app.worker("hog", traces=0)
def hog(event: Any) -> None:
    global _ballast
    _ballast = b"x" * (event["mb"] << 20)
    note("hog", event["i"], os.getpid())


_ballast = b""

if __name__ == "__main__":
    app.run(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}"))
