"""N messages that each ``await asyncio.sleep(S)``, run by ``App.run`` with a given number of slots.

    python bench/run_io.py [--n 1000] [--sleep 0.05] [--processes 1] [--concurrency 100] [--repeat 3]

Timed from the first runner being up (its first heartbeat) to the store holding none of the messages.
"""

from __future__ import annotations

import argparse
import statistics
import time

from run_common import client, fresh_store, left, reader, runners_up, supervisor, wait_until


def once(n: int, sleep: float, processes: int, concurrency: int) -> tuple[float, float]:
    with fresh_store() as (url, _tmp):
        app = client(url)
        app.emit_many([({"s": sleep}, "sleep") for _ in range(n)])
        db = reader(url)
        t0 = time.perf_counter()
        with supervisor(url, processes=processes, concurrency=concurrency):
            t_up = wait_until(runners_up(db, 1), 60, interval=0.0005)
            t_end = wait_until(left(db, "sleep"), 120, interval=0.005)
        db.close()
        app.close()
        return t_end - t_up, t_end - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--sleep", type=float, default=0.05)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    runs = [once(a.n, a.sleep, a.processes, a.concurrency) for _ in range(a.repeat)]
    for seconds, wall in runs:
        print(f"  {seconds:.3f} s once up; {wall:.3f} s wall incl. start-up")
    ideal = a.n * a.sleep / (a.processes * a.concurrency)
    print(
        f"{a.n} x sleep({a.sleep:g}), {a.processes} processes x {a.concurrency} slots: "
        f"median {statistics.median(r[0] for r in runs):.3f} s (ideal {ideal:.2f} s)"
    )


if __name__ == "__main__":
    main()
