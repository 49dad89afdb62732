"""The SQLite store's claim-and-ack turns alone, from several processes sharing one file: no handlers,
no event loop. This is the part of a drain that runs inside the write lock, so it bounds the drain.

    python -m bench.store_turns [--processes 2] [--batch 50] [--n 40000] [--repeat 3]

Each process repeats ``settle_and_claim``: ack the previous turn's messages and claim up to ``--batch``
more, in one transaction, until nothing is left. Prints messages per second over all processes (the
median of ``--repeat`` runs) and how the messages were shared between the processes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import conveyor
from conveyor._stores import Settlement
from conveyor._stores._sqlite import SQLiteStore


def _turns(path: str, batch: int, start: mp.synchronize.Event, done: mp.Queue) -> None:  # type: ignore[type-arg]
    store = SQLiteStore(path)
    runner = f"turns-{os.getpid()}"
    limits: dict[str, int | None] = {"w": None}
    settle = Settlement()
    handled = 0
    start.wait()
    while True:
        claimed = store.settle_and_claim(runner, settle, limits, batch, 30.0)
        if not claimed:
            break
        handled += len(claimed)
        settle = Settlement(complete=[c.id for c in claimed])
    store.close()
    done.put(handled)


def once(processes: int, batch: int, n: int) -> tuple[float, list[int]]:
    with tempfile.TemporaryDirectory(prefix="conveyor-turns-") as tmp:
        path = str(Path(tmp) / "turns.db")
        app = conveyor.App(f"sqlite:///{path}")
        for first in range(0, n, 1000):
            app.emit_many([({"i": i}, "w") for i in range(first, min(n, first + 1000))])
        app.close()
        ctx = mp.get_context("fork")
        start, done = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_turns, args=(path, batch, start, done)) for _ in range(processes)]
        for p in procs:
            p.start()
        time.sleep(0.3)  # every process has opened the store
        t0 = time.perf_counter()
        start.set()
        shares = [done.get() for _ in procs]
        seconds = time.perf_counter() - t0
        for p in procs:
            p.join()
        return n / seconds, sorted(shares)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--n", type=int, default=40_000)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    rates = []
    for _ in range(a.repeat):
        rate, shares = once(a.processes, a.batch, a.n)
        rates.append(rate)
        print(f"  {rate:,.0f} msgs/s; messages per process {shares}")
    print(
        f"store turns, {a.processes} processes, batches of {a.batch}: median {statistics.median(rates):,.0f} "
        f"msgs/s (best {max(rates):,.0f})"
    )


if __name__ == "__main__":
    main()
