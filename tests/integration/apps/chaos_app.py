"""The app of the chaos test: ``python chaos_app.py '{"processes": 2}'`` runs ``app.run(**that)``.

Besides ``chaos``, three poison pills: one raises, one kills its process, one never returns.
Each handled message appends its id and pid to $CHAOS_DIR/handled (one short O_APPEND write: atomic).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import conveyor

app = conveyor.App(lease=float(os.environ.get("CHAOS_LEASE", "1.0")))
OUT = Path(os.environ.get("CHAOS_DIR", ".")) / "handled"


@app.worker("chaos", max_attempts=50, backoff=0, traces=0)
async def chaos(event: Any, msg: conveyor.Message) -> None:
    if event.get("sleep"):
        await asyncio.sleep(event["sleep"])
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{msg.id} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


@app.worker("raises", max_attempts=2, backoff=0)
def raises(event: Any) -> None:
    raise RuntimeError("poison: always raises")


@app.worker("exits", max_attempts=2, backoff=0)
def exits(event: Any) -> None:
    os._exit(3)  # takes its runner process down with it


@app.worker("hangs", max_attempts=2, backoff=0, timeout=0.5)
def hangs(event: Any) -> None:
    import time

    time.sleep(3600)  # never returns


if __name__ == "__main__":
    app.run(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}"))
