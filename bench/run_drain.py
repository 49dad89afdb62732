"""Drain N queued no-op messages with ``App.run`` (what ``conveyor run`` calls) on SQLite.

    python bench/run_drain.py [--n 10000] [--processes 2] [--concurrency 50] [--worker noop|anoop]

Prints the rate from the first runner being up (its first heartbeat row) to the store holding no
message of the worker, and the wall time including process start-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

from run_common import client, fresh_store, left, reader, runners_up, supervisor, wait_until


def once(n: int, processes: int, concurrency: int, worker: str) -> tuple[float, float]:
    with fresh_store() as (url, _tmp):
        app = client(url)
        for start in range(0, n, 1000):
            app.emit_many([({"i": i}, worker) for i in range(start, min(n, start + 1000))])
        db = reader(url)
        t0 = time.perf_counter()
        with supervisor(url, processes=processes, concurrency=concurrency):
            t_up = wait_until(runners_up(db, 1), 60, interval=0.0005)
            t_end = wait_until(left(db, worker), 120, interval=0.005)
        db.close()
        app.close()
        return n / (t_end - t_up), t_end - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--worker", default="noop", choices=["noop", "anoop"])
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    rates, walls = [], []
    for _ in range(a.repeat):
        rate, wall = once(a.n, a.processes, a.concurrency, a.worker)
        rates.append(rate)
        walls.append(wall)
        print(f"  {a.n} {a.worker} messages: {rate:,.0f} msgs/s once up; {wall:.3f} s wall incl. start-up")
    print(
        f"drain {a.n} x {a.worker}, {a.processes} processes x {a.concurrency} slots: "
        f"median {statistics.median(rates):,.0f} msgs/s (best {max(rates):,.0f}); "
        f"wall incl. start-up median {statistics.median(walls):.3f} s"
    )


if __name__ == "__main__":
    main()
