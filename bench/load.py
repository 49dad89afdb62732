"""Load: 1,000,000 messages queued across 100 workers, then ``conveyor run`` works through them.

    python -m bench.load [--store sqlite|pg] [--n 1000000] [--seconds 20]

Every second it prints the messages handled in that second, the resident memory of each runner
process, and how long ``status()``, ``unknown()`` and ``messages(limit=100)`` took (what the dashboard
and ``conveyor status`` call). The claim is that throughput and memory stay flat and the reads stay
under 100 ms with the backlog. Not part of the test suite (filling takes a minute or more).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import conveyor

HERE = Path(__file__).resolve().parent


def runner_rss_mb(parent: int) -> list[float]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) != parent:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]) / 1024)
    return sorted(out)


def timed_ms(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    tmp = tempfile.mkdtemp(prefix="conveyor-load-")
    if args.store == "sqlite":
        url = f"sqlite:///{tmp}/load.db"
    else:
        url = f"{args.pg}{'&' if '?' in args.pg else '?'}schema=load_{uuid.uuid4().hex[:8]}"
    app = conveyor.App(url)
    started = time.perf_counter()
    for chunk in range(0, args.n, 10_000):
        app.emit_many([({"i": i}, f"w{i % 100:02d}") for i in range(chunk, min(args.n, chunk + 10_000))])
    print(f"{args.store}: queued {args.n:,} across 100 workers in {time.perf_counter() - started:.1f} s")
    env = dict(os.environ, CONVEYOR_STORE=url)
    run = {"processes": 2, "concurrency": 50}
    proc = subprocess.Popen([sys.executable, str(HERE / "load_app.py"), json.dumps(run)], env=env)
    rows = []
    try:
        last = sum(s.queued for s in app.status().values())
        for second in range(1, args.seconds + 1):
            time.sleep(1.0)
            status_ms = timed_ms(app.status)
            left = sum(s.queued for s in app.status().values())
            unknown_ms = timed_ms(app.unknown)
            messages_ms = timed_ms(lambda: app.messages(limit=100))
            rss = runner_rss_mb(proc.pid)
            rows.append((second, last - left, left, rss, status_ms, unknown_ms, messages_ms))
            last = left
            print(
                f"{second:3d} s  handled {rows[-1][1]:7,}/s  queued {left:9,}  runner RSS "
                f"{', '.join(f'{r:.1f}' for r in rss)} MB  status {status_ms:6.1f} ms  unknown "
                f"{unknown_ms:6.1f} ms  messages {messages_ms:6.1f} ms",
                flush=True,
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    steady = [r[1] for r in rows[2:]]  # the first seconds include start-up
    print(
        f"summary {args.store}: handled/s min {min(steady):,} median {sorted(steady)[len(steady) // 2]:,} "
        f"max {max(steady):,}; runner RSS first {rows[0][3]} last {rows[-1][3]} MB; "
        f"status max {max(r[4] for r in rows):.1f} ms; unknown max {max(r[5] for r in rows):.1f} ms; "
        f"messages max {max(r[6] for r in rows):.1f} ms"
    )


if __name__ == "__main__":
    main()
