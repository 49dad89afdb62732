"""CPU and memory of idle runners: ``App.run`` with nothing to do, measured from /proc.

python bench/run_idle.py [--processes 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time

from run_common import (
    child_pids,
    client,
    cpu_seconds,
    fresh_store,
    reader,
    rss_mb,
    runners_up,
    supervisor,
    wait_until,
)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    with fresh_store() as (url, _tmp):
        app = client(url)
        db = reader(url)
        with supervisor(url, processes=a.processes, concurrency=a.concurrency) as sup:
            wait_until(runners_up(db, a.processes), 60)
            time.sleep(2.0)
            pids = [sup.pid, *child_pids(sup.pid)]
            before = {pid: cpu_seconds(pid) for pid in pids}
            t0 = time.perf_counter()
            time.sleep(a.seconds)
            elapsed = time.perf_counter() - t0
            after = {pid: cpu_seconds(pid) for pid in pids}
            rss = {pid: rss_mb(pid) for pid in pids}
        db.close()
        app.close()
    for pid in pids:
        role = "supervisor" if pid == pids[0] else "runner"
        share = (after[pid] - before[pid]) / elapsed * 100
        print(f"  {role:10} pid {pid}: {share:.2f} % of a core, {rss[pid]:.1f} MB RSS")
    runners = pids[1:]
    worst = max((after[p] - before[p]) / elapsed * 100 for p in runners)
    print(
        f"idle over {a.seconds:g} s, {len(runners)} runners: worst runner {worst:.2f} % of a core, "
        f"max RSS {max(rss[p] for p in runners):.1f} MB (CPU from /proc/<pid>/stat at {1 / 100:g} s ticks)"
    )


if __name__ == "__main__":
    main()
