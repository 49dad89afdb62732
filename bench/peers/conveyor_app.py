"""The benchmark's Conveyor app: ``conveyor run bench/peers/conveyor_app.py:app`` (store: $CONVEYOR_STORE)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import record_start

import conveyor

app = conveyor.App()


@app.worker("bench-noop")
def noop(event: Any) -> None:
    return None


@app.worker("bench-lat")
def lat(event: Any) -> None:
    record_start(os.environ["BENCH_RECORDS"], event["i"], event["t"])


@app.worker("bench-lat-async")
async def lat_async(event: Any) -> None:
    record_start(os.environ["BENCH_RECORDS"], event["i"], event["t"])


@app.worker("bench-lat-traced", traces=1000)
def lat_traced(event: Any) -> None:
    record_start(os.environ["BENCH_RECORDS"], event["i"], event["t"])


@app.worker("bench-io")
async def io(event: Any) -> None:
    await asyncio.sleep(event["s"])
