"""An app for ``conveyor run`` tests of runner hardening (``conveyor run --no-web hardening_app.py``).

Handlers write what they saw as lines in files under $HARDEN_DIR (appends of one short line are atomic).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import conveyor

app = conveyor.App()
OUT = Path(os.environ.get("HARDEN_DIR", "."))


def note(name: str, *fields: object) -> None:
    fd = os.open(OUT / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (" ".join(str(f) for f in fields) + "\n").encode())
    finally:
        os.close(fd)


@app.worker("nul", max_attempts=1)
def nul(event: Any) -> Any:
    if event["s"] != "ok":
        raise ValueError("bad " + event["s"])
    return event


@app.worker("fails", max_attempts=2, backoff=0.01)
def fails(event: Any) -> None:
    raise RuntimeError(f"boom {event}\nsecond line")


@app.worker("chatty")
def chatty(event: Any) -> None:
    logging.getLogger("user.chatty").info("info line %s", event)


@app.worker("delayed")
def delayed(event: Any, msg: conveyor.Message) -> None:
    note("starts", msg.id, repr(time.time()))


@app.worker("quick-retry", max_attempts=2, backoff=lambda attempt: 0.2)
def quick_retry(event: Any, msg: conveyor.Message) -> None:
    note("retries", msg.attempt, repr(time.time()))
    if msg.attempt == 1:
        raise RuntimeError("first attempt fails")


@app.worker("noop")
def noop(event: Any) -> None:
    pass


@app.worker("slow")
def slow(event: Any) -> None:
    time.sleep(event)
