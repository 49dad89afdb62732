"""Emit→start latency to idle runners: ``App.run`` in its own processes, emits from this process.

    python bench/run_latency.py [--n 500] [--gap 0.005] [--processes 2] [--concurrency 50]

Each event carries ``time.time()`` taken just before ``app.emit``; the handler writes its own start time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from run_common import client, fresh_store, reader, runners_up, supervisor, wait_until


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--gap", type=float, default=0.005)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=50)
    a = p.parse_args()
    with fresh_store() as (url, tmp):
        app = client(url)
        records = tmp / "latency.txt"
        db = reader(url)
        with supervisor(url, records, processes=a.processes, concurrency=a.concurrency):
            wait_until(runners_up(db, a.processes), 60)
            time.sleep(1.0)  # let them go idle
            for i in range(a.n):
                app.emit({"i": i, "t": time.time()}, "latency")
                time.sleep(a.gap)
            wait_until(lambda: _count(records) >= a.n, 30)
        lat = sorted(float(now) - float(t) for _i, t, now in (line.split() for line in _lines(records)))
        db.close()
        app.close()
    ms = [x * 1000 for x in lat]
    q = statistics.quantiles(ms, n=100)
    print(
        f"emit->start, {a.n} emits {a.gap * 1000:g} ms apart, {a.processes} idle runner processes: "
        f"p50 {q[49]:.3f} ms, p90 {q[89]:.3f} ms, p99 {q[98]:.3f} ms, max {ms[-1]:.3f} ms"
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _count(path: Path) -> int:
    return len(_lines(path))


if __name__ == "__main__":
    main()
