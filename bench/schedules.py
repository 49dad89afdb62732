"""Schedules: how punctual a tick's emit is, and what an idle runner with 100 schedules costs.

    python -m bench.schedules                       # SQLite (a temporary file) and PostgreSQL
    python -m bench.schedules --stores sqlite       # one of them; --pg URL for another server
    python -m bench.schedules --ticks 30 --seconds 20 --processes 2
    python -m bench.schedules --smoke               # a few ticks and a short idle window
    python -m bench.schedules --json FILE           # also write the figures as JSON

Both parts run ``conveyor run bench/schedules_app.py:app --processes P --no-web --log-level WARNING``
against a fresh store (a new SQLite file, or a scratch PostgreSQL database
``conveyor_bench_schedules_<pid>_<part>`` created and dropped):

- **tick→emit**: one schedule, ``every=1``, to a worker that records its message's ``enqueued_at`` and its
  own start. Over ``--ticks`` ticks (the first two after start-up are left out: one may be a catch-up of a
  tick missed while the runners started), tick→emit is ``enqueued_at`` minus the tick (from the key
  ``schedule:<name>:<tick>``) and tick→start is the handler's start minus the tick.
- **idle**: 100 schedules, ``every=60``, once every runner has published them, over ``--seconds`` seconds
  that hold no whole minute (nothing is due): the CPU time of each runner process from
  ``/proc/<pid>/stat`` (utime + stime, at the kernel's clock-tick resolution) as a share of one core, and
  its resident memory. The worst runner is reported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import conveyor

from ._bytecode import precompile

HERE = Path(__file__).resolve().parent
APP = HERE / "schedules_app.py"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LABELS = {"sqlite": "SQLite", "pg": "PostgreSQL"}


@contextmanager
def store_url(kind: str, admin_pg: str, part: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="conveyor-schedules-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import psycopg

    name = f"conveyor_bench_schedules_{os.getpid()}_{part}"
    with psycopg.connect(admin_pg, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base = admin_pg.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_pg, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def conveyor_run(url: str, records: Path, processes: int, schedules: int, every: float) -> Iterator[int]:
    """``conveyor run`` of the schedules app in its own process (its pid), stopped with SIGTERM after."""
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    env = {
        **os.environ,
        "BENCH_RECORDS": str(records),
        "BENCH_SCHEDULES": str(schedules),
        "BENCH_EVERY": str(every),
    }
    precompile()  # as pip does at install (see _bytecode.py)
    command = [exe, "run", f"{APP}:app", "--store", url, "--processes", str(processes), "--no-web"]
    command += ["--log-level", "WARNING"]
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    try:
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark timed out waiting for {what}")
        time.sleep(0.05)


def records(path: Path) -> list[tuple[int, float, float]]:
    """(tick, enqueued_at, started) per message the worker ran."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        key, enqueued, started = line.split()
        out.append((int(key.rsplit(":", 1)[1]), float(enqueued), float(started)))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency(url: str, ticks: int, processes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="conveyor-schedules-") as tmp:
        path = Path(tmp) / "records.txt"
        with conveyor_run(url, path, processes, schedules=1, every=1.0):
            wait_until(lambda: len(records(path)) >= ticks + 2, ticks + 60, f"{ticks + 2} ticks")
        got = sorted(records(path))[2 : ticks + 2]
    emit = [(enqueued - tick) * 1000 for tick, enqueued, _ in got]
    start = [(started - tick) * 1000 for tick, _, started in got]
    return {
        "ticks": len(got),
        "emit_p50": statistics.median(emit),
        "emit_p99": percentile(emit, 0.99),
        "emit_max": max(emit),
        "start_p50": statistics.median(start),
        "start_p99": percentile(start, 0.99),
    }


def child_pids(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def idle(url: str, seconds: float, processes: int, schedules: int = 100) -> dict[str, float]:
    client = conveyor.App(url)
    try:
        with tempfile.TemporaryDirectory(prefix="conveyor-schedules-") as tmp:
            path = Path(tmp) / "records.txt"
            with conveyor_run(url, path, processes, schedules=schedules, every=60.0) as pid:
                wait_until(lambda: len(child_pids(pid)) == processes, 60, f"{processes} runners")
                wait_until(lambda: len(client.schedules()) == schedules, 60, "the schedules published")
                time.sleep(2.0)  # start-up done (and any catch-up it emitted run)
                next_minute = (math.floor(time.time() / 60) + 1) * 60
                if next_minute - time.time() < seconds + 1:
                    time.sleep(next_minute + 3 - time.time())  # let that minute's ticks be emitted and run
                runners = child_pids(pid)
                before = {p: cpu_seconds(p) for p in runners}
                t0 = time.perf_counter()
                w0 = time.time()
                time.sleep(seconds)
                elapsed = time.perf_counter() - t0
                after = {p: cpu_seconds(p) for p in runners}
                rss = max(rss_mb(p) for p in runners)
            due = [tick for tick, _, _ in records(path) if w0 <= tick <= w0 + seconds]
    finally:
        client.close()
    assert not due, f"ticks fell inside the idle window: {due}"
    worst = max((after[p] - before[p]) / elapsed * 100 for p in runners)
    return {"seconds": elapsed, "runners": len(runners), "cpu_pct": worst, "rss_mb": rss}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,pg")
    p.add_argument("--pg", default=os.environ.get("CONVEYOR_TEST_PG") or DEFAULT_PG)
    p.add_argument("--ticks", type=int, default=30)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--smoke", action="store_true", help="3 ticks and a 2 s idle window")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    a = p.parse_args()
    if a.smoke:
        a.ticks, a.seconds = 3, 2.0
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    rows: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for kind in a.stores.split(","):
        with store_url(kind, a.pg, "latency") as url:
            lat = latency(url, a.ticks, a.processes)
        with store_url(kind, a.pg, "idle") as url:
            quiet = idle(url, a.seconds, a.processes)
        rows.append((kind, lat, quiet))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"Schedules — {when}, `conveyor run --processes {a.processes}`")
    print(
        "| store | ticks | tick→emit p50 ms | p99 ms | max ms | tick→start p50 ms | p99 ms "
        "| idle runner, 100 schedules: CPU % of a core | RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, lat, quiet in rows:
        print(
            f"| {LABELS.get(kind, kind)} | {lat['ticks']} | {lat['emit_p50']:.1f} | {lat['emit_p99']:.1f} "
            f"| {lat['emit_max']:.1f} | {lat['start_p50']:.1f} | {lat['start_p99']:.1f} "
            f"| {quiet['cpu_pct']:.2f} (worst of {quiet['runners']}, {quiet['seconds']:.0f} s) "
            f"| {quiet['rss_mb']:.1f} |"
        )
    if a.json:
        figures = {kind: {"latency": lat, "idle": quiet} for kind, lat, quiet in rows}
        a.json.write_text(json.dumps({"processes": a.processes, "results": figures}, indent=2))


if __name__ == "__main__":
    main()
