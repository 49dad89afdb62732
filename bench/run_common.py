"""Shared by ``bench/run_*.py``: a fresh SQLite store, the supervisor process, and waiting on the store."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _bytecode import precompile

import conveyor

HERE = Path(__file__).resolve().parent


@contextmanager
def fresh_store() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)


def client(url: str) -> conveyor.App:
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    app = conveyor.App(url)
    app.status()  # open and migrate before anything is timed
    return app


@contextmanager
def supervisor(url: str, records: Path | None = None, **run: Any) -> Iterator[subprocess.Popen[bytes]]:
    """``python bench/run_app.py '{run}'``: App.run in its own process, stopped with SIGTERM after."""
    env = dict(os.environ, CONVEYOR_STORE=url, BENCH_RUN_RECORDS=str(records or ""))
    precompile()  # as pip does at install (see _bytecode.py)
    proc = subprocess.Popen([sys.executable, str(HERE / "run_app.py"), json.dumps(run)], env=env)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reader(url: str) -> sqlite3.Connection:
    path = url.split("sqlite:///", 1)[1]
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.002) -> float:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark timed out")
        time.sleep(interval)
    return time.perf_counter()


def runners_up(db: sqlite3.Connection, count: int) -> Callable[[], bool]:
    return lambda: db.execute("SELECT count(*) FROM runners").fetchone()[0] >= count


def left(db: sqlite3.Connection, worker: str) -> Callable[[], bool]:
    return lambda: (
        not db.execute("SELECT EXISTS (SELECT 1 FROM messages WHERE worker = ?)", (worker,)).fetchone()[0]
    )


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
    return found


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
