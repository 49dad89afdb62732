"""``await app.aemit`` against ``app.emit``: throughput, and how late a 1 ms ticker runs meanwhile.

    python -m bench.aemit [--store URL] [--n 5000] [--rounds 5] [--tasks 50] [--json FILE]

On a fresh SQLite file (or ``--store``, which must be an empty store of its own), each round runs ``n``
``emit`` calls, ``n`` ``aemit`` calls awaited one after another from one task, and ``n`` ``aemit`` calls
spread over ``--tasks`` concurrent tasks; the medians of the rounds are printed with the ratios to ``emit``.
Then 1,000 ``aemit`` calls from one task while a second task sleeps 1 ms at a time: the largest and the
99th-percentile lateness of its ticks, beside the same ticker on an idle loop (what the machine itself adds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import conveyor


def _app(url: str) -> conveyor.App:
    app = conveyor.App(url)

    @app.worker("w")
    def handle(event: Any) -> None:
        pass

    return app


def emit_rate(app: conveyor.App, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        app.emit({"i": i}, "w")
    return n / (time.perf_counter() - start)


async def aemit_rate(app: conveyor.App, n: int, tasks: int) -> float:
    async def one(count: int) -> None:
        for i in range(count):
            await app.aemit({"i": i}, "w")

    start = time.perf_counter()
    await asyncio.gather(*(one(n // tasks) for _ in range(tasks)))
    return (n // tasks * tasks) / (time.perf_counter() - start)


async def tick_lateness(app: conveyor.App | None, n: int = 1000) -> list[float]:
    """Lateness (seconds) of each 1 ms tick while one task awaits ``n`` aemits (None: 0.5 s idle)."""
    done = asyncio.Event()
    late: list[float] = []

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            late.append(max(0.0, time.perf_counter() - start - 0.001))

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    if app is None:
        await asyncio.sleep(0.5)
    else:
        for i in range(n):
            await app.aemit({"i": i}, "w")
    done.set()
    await tick
    return late


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.aemit", description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="an empty store of its own (default: a fresh SQLite file)")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        app = _app(args.store or f"sqlite:///{scratch}/aemit.db")
        app.emit(0, "w")  # open, migrate, warm up
        asyncio.run(app.aemit(0, "w"))
        sync, one, many = [], [], []
        for _ in range(args.rounds):
            sync.append(emit_rate(app, args.n))
            one.append(asyncio.run(aemit_rate(app, args.n, 1)))
            many.append(asyncio.run(aemit_rate(app, args.n, args.tasks)))
            app.purge("w")
        idle = asyncio.run(tick_lateness(None))
        busy = asyncio.run(tick_lateness(app))
        app.purge("w")
        app.close()
    emit_s, one_s, many_s = (statistics.median(r) for r in (sync, one, many))
    figures = {
        "emit_per_s": emit_s,
        "aemit_one_task_per_s": one_s,
        "aemit_one_task_ratio": one_s / emit_s,
        f"aemit_{args.tasks}_tasks_per_s": many_s,
        f"aemit_{args.tasks}_tasks_ratio": many_s / emit_s,
        "tick_late_max_ms": max(busy) * 1000,
        "tick_late_p99_ms": _p99(busy) * 1000,
        "idle_tick_late_max_ms": max(idle) * 1000,
        "idle_tick_late_p99_ms": _p99(idle) * 1000,
        "ticks": len(busy),
    }
    print(f"store: {args.store or 'sqlite (fresh file)'}; n={args.n}, rounds={args.rounds} (medians)")
    print(f"  emit                     {emit_s:>9,.0f} /s")
    print(f"  aemit, one task          {one_s:>9,.0f} /s   {one_s / emit_s:6.1%} of emit")
    print(f"  aemit, {args.tasks:>3} tasks        {many_s:>9,.0f} /s   {many_s / emit_s:6.1%} of emit")
    print(
        f"  1 ms ticker during 1,000 aemits: {len(busy)} ticks, late by at most "
        f"{max(busy) * 1000:.2f} ms (p99 {_p99(busy) * 1000:.2f} ms); on an idle loop at most "
        f"{max(idle) * 1000:.2f} ms (p99 {_p99(idle) * 1000:.2f} ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return figures


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


if __name__ == "__main__":
    main()
