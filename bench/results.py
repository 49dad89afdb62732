"""Results: how soon a waiter in one process wakes after another process's runner commits the result.

    python -m bench.results                       # SQLite (a temporary file) and PostgreSQL
    python -m bench.results --stores sqlite       # one of them; --pg URL for another server
    python -m bench.results --waits 300 --fan 1000
    python -m bench.results --smoke               # a few waits and a small fan
    python -m bench.results --json FILE           # also write the figures as JSON

Each store runs ``conveyor run bench/results_app.py:app --processes 1 --no-web`` against a fresh store
(a new SQLite file, or a scratch PostgreSQL database ``conveyor_bench_results_<pid>`` created and
dropped); the waiter is this process:

- **commit→wake**: ``--waits`` times, one after the other: emit a message due 20 ms later and wait for
  its result (``app.result``). The figure is the time the waiter returned minus the result's
  ``finished_at``, the store's clock at the settle that committed it (SQLite: the runner's clock as the
  settle began; PostgreSQL: the server's, at the start of that transaction): the store's hint, the
  waiter's lookup and its wake-up, plus the settle's own statements.
- **fan**: ``--fan`` concurrent ``await app.aresult(id)`` in one event loop, for messages emitted in one
  ``emit_many`` and due 200 ms later: the time from the newest result's ``finished_at`` to the last
  waiter's return, and how many lookup statements the app's one listener ran for all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import conveyor
from conveyor._results import Finished

from .schedules import DEFAULT_PG, percentile, store_url, wait_until

HERE = Path(__file__).resolve().parent
APP = HERE / "results_app.py"
LABELS = {"sqlite": "SQLite", "pg": "PostgreSQL"}


def conveyor_run(url: str) -> Any:
    import shutil
    import subprocess

    from ._bytecode import precompile

    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    precompile()
    command = [exe, "run", f"{APP}:app", "--store", url, "--processes", "1", "--no-web"]
    command += ["--log-level", "WARNING"]
    return subprocess.Popen(command, env=dict(os.environ), stdin=subprocess.DEVNULL)


def started(app: conveyor.App) -> None:
    """Once the runner has run a first message."""
    warm = app.emit(None, "echo")
    wait_until(lambda: app.results_hub.wait(warm, 0) is not None, 60, "the runner to start")


def commit_to_wake(app: conveyor.App, waits: int) -> dict[str, float]:
    late: list[float] = []
    for i in range(waits):
        mid = app.emit(i, "echo", delay=0.02)
        found = app.results_hub.wait(mid, 30)
        woke = time.time()
        assert found is not None and found.outcome == "ok" and found.finished_at is not None, found
        late.append((woke - found.finished_at.timestamp()) * 1000)
    return {
        "waits": waits,
        "p50_ms": statistics.median(late),
        "p99_ms": percentile(late, 0.99),
        "max_ms": max(late),
    }


def fan(app: conveyor.App, count: int) -> dict[str, float]:
    ids = app.emit_many([(i, "echo", {"delay": 0.2}) for i in range(count)])
    looks = app.results_hub.looks

    async def wait_all() -> list[Finished | None]:
        return await asyncio.gather(*(app.results_hub.await_(i, 60) for i in ids))

    found = asyncio.run(wait_all())
    done = time.time()
    assert all(f is not None and f.outcome == "ok" for f in found), "a waiter timed out"
    newest = max(f.finished_at.timestamp() for f in found if f is not None and f.finished_at is not None)
    return {"waiters": count, "last_ms": (done - newest) * 1000, "looks": app.results_hub.looks - looks}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,pg")
    p.add_argument("--pg", default=os.environ.get("CONVEYOR_TEST_PG") or DEFAULT_PG)
    p.add_argument("--waits", type=int, default=300)
    p.add_argument("--fan", type=int, default=1000)
    p.add_argument("--smoke", action="store_true", help="10 waits and a fan of 50")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    a = p.parse_args()
    if a.smoke:
        a.waits, a.fan = 10, 50
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    rows: list[tuple[str, dict[str, float], dict[str, float]]] = []
    for kind in a.stores.split(","):
        with store_url(kind, a.pg, "results") as url:
            app = conveyor.App(url)
            app.worker("echo", results=600)(lambda event: event)  # so that emits know it; run elsewhere
            run = conveyor_run(url)
            try:
                started(app)
                rows.append((kind, commit_to_wake(app, a.waits), fan(app, a.fan)))
            finally:
                run.terminate()
                run.wait(60)
                app.close()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"Results — {when}, `conveyor run --processes 1`, the waiter in another process")
    print(
        "| store | waits | commit→wake p50 ms | p99 ms | max ms | concurrent aresult | last wake ms "
        "| lookups |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, wake, many in rows:
        print(
            f"| {LABELS.get(kind, kind)} | {wake['waits']} | {wake['p50_ms']:.2f} | {wake['p99_ms']:.2f} "
            f"| {wake['max_ms']:.2f} | {many['waiters']} | {many['last_ms']:.1f} | {many['looks']} |"
        )
    if a.json:
        figures = {kind: {"wake": wake, "fan": many} for kind, wake, many in rows}
        a.json.write_text(json.dumps({"results": figures}, indent=2))


if __name__ == "__main__":
    main()
