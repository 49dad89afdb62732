"""Conveyor's driver (runs in the project's own venv). See _common.py for the protocol."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    HERE,
    Records,
    Workers,
    main_guard,
    parser,
    percentile,
    run_latency,
    wait_drained,
    wait_until,
    warm_up,
)


def cli_available() -> bool:
    exe = _conveyor_exe()
    if exe is None:
        return False
    proc = subprocess.run([exe, "run", "--help"], capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0 and "--processes" in proc.stdout


def _conveyor_exe() -> str | None:
    local = Path(sys.executable).parent / "conveyor"
    return str(local) if local.exists() else shutil.which("conveyor")


def pending(url: str, column: str = "worker") -> Callable[[Any], bool]:
    """True while a message of the worker (or with the id) is still in the store: a row is deleted on ack."""
    sql = "SELECT EXISTS (SELECT 1 FROM {table} WHERE " + column + " = {p})"
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[1]
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        query = sql.format(table="messages", p="?")
        return lambda value: bool(db.execute(query, (value,)).fetchone()[0])
    import psycopg

    # The PostgreSQL store keeps its tables in the schema named by ?schema= (default "conveyor").
    schema = "conveyor"
    if "schema=" in url:
        schema = url.split("schema=", 1)[1].split("&", 1)[0]
    conn = psycopg.connect(url.split("?", 1)[0], autocommit=True)
    query = sql.format(table=f'"{schema}".messages', p="%s")
    return lambda value: bool(conn.execute(query, (value,)).fetchone()[0])  # type: ignore[index]


def raw_commit_rate(url: str, n: int, out: Path) -> float:
    """The floor: single-row autocommitted INSERTs of the same size from a bare driver, same store kind.

    Measured right after the emits, in the same process, so that both saw the same machine load.
    """
    row = ("bench-noop", b'{"i":1}', time.time())
    if url.startswith("sqlite:"):
        db = sqlite3.connect(str(out / "raw.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, worker TEXT, event BLOB, at REAL)")
        t0 = time.perf_counter()
        for _ in range(n):
            db.execute("INSERT INTO raw (worker, event, at) VALUES (?, ?, ?)", row)
        rate = n / (time.perf_counter() - t0)
        db.close()
        return rate
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, worker text, event bytea, at float8)")
        t0 = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO bench_raw (worker, event, at) VALUES (%s, %s, %s)", row)
        rate = n / (time.perf_counter() - t0)
        conn.execute("DROP TABLE bench_raw")
        return rate


def breakdown(app: Any, worker: str, records: Records) -> dict[str, dict[str, float]]:
    """p50/p95/p99 of each leg, joining the handler's records with the worker's traces by event index:
    emit call -> ``enqueued_at`` (stamped by the store), -> ``started_at`` (the claim), -> handler start."""
    started = {int(r[0]): (float(r[1]), float(r[2])) for r in records.lines() if int(r[0]) >= 0}
    legs: dict[str, list[float]] = {"emit->enqueued": [], "enqueued->claimed": [], "claimed->handler": []}
    for t in app.traces(worker):
        i = t.event["i"]
        if i not in started:
            continue
        emitted, handler = started[i]
        enq, claimed = t.enqueued_at.timestamp(), t.started_at.timestamp()
        legs["emit->enqueued"].append((enq - emitted) * 1000)
        legs["enqueued->claimed"].append((claimed - enq) * 1000)
        legs["claimed->handler"].append((handler - claimed) * 1000)
    return {
        leg: {f"p{p}": percentile(v, p) for p in (50, 95, 99)} | {"n": len(v)} for leg, v in legs.items() if v
    }


def main() -> dict[str, Any]:
    p = parser("conveyor")
    p.add_argument("--store", required=True)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--mode", choices=["auto", "cli", "fallback"], default="auto")
    p.add_argument("--async-latency", action="store_true", help="latency with an async def handler")
    p.add_argument(
        "--latency-breakdown",
        action="store_true",
        help="latency split by the traces' times: emit -> enqueued_at -> claimed (started_at) -> handler",
    )
    args = p.parse_args()
    os.environ["CONVEYOR_STORE"] = args.store
    out = Path(args.out)
    records = Records(out / "records.txt")
    os.environ["BENCH_RECORDS"] = str(records.path)
    from conveyor_app import app

    mode = args.mode
    if mode == "auto":
        mode = "cli" if cli_available() else "fallback"
    app.emit({"i": -1, "t": 0.0}, "bench-lat")  # open (and migrate) the store outside any timing
    app.purge("bench-lat")
    left = pending(args.store)
    exists = pending(args.store, "id")
    wl = args.workload

    def workers(concurrency: int) -> Workers:
        if mode == "cli":
            exe = _conveyor_exe()
            assert exe is not None
            argv = [
                exe,
                "run",
                f"{HERE / 'conveyor_app.py'}:app",
                "--processes",
                str(args.processes),
                "--concurrency",
                str(concurrency),
                "--no-web",
                "--store",
                args.store,
            ]
        else:
            argv = [sys.executable, str(HERE / "conveyor_serve.py"), str(concurrency * args.processes)]
        return Workers(argv, out / f"workers-{wl}.log")

    how = (
        f"conveyor run --processes {args.processes}"
        if mode == "cli"
        else f"FALLBACK (conveyor run missing): app.run() in 1 process x {args.processes}"
    )
    if wl == "emit":
        emit = app.emit
        t0 = time.perf_counter()
        for i in range(args.n):
            emit({"i": i}, "bench-noop")
        seconds = time.perf_counter() - t0
        raw = raw_commit_rate(args.store, args.n, out)
        return {
            "seconds": seconds,
            "rate": args.n / seconds,
            "n": args.n,
            "raw_commit_rate": raw,
            "how": "app.emit, one call at a time",
        }
    if wl == "drain":
        for start in range(0, args.n, 1000):
            app.emit_many([({"i": i}, "bench-noop") for i in range(start, min(args.n, start + 1000))])
        if mode == "fallback":
            t0 = time.perf_counter()
            done = app.drain(timeout=args.timeout)
            t1 = time.perf_counter()
            if left("bench-noop"):
                raise RuntimeError("app.drain() returned with messages left")
            return {
                "seconds": t1 - t0,
                "rate": done / (t1 - t0),
                "n": done,
                "how": "FALLBACK: in-process app.drain(), 1 process (conveyor run missing)",
            }
        oldest = app.messages("bench-noop", limit=1)[0].id
        t0 = time.perf_counter()
        with workers(50) as w:
            figures = wait_drained(
                lambda: not left("bench-noop"),
                lambda: not exists(oldest),
                alive=w.check_alive,
                t0=t0,
                n=args.n,
                timeout=args.timeout,
                what="the store to hold no bench-noop message",
            )
        return {
            **figures,
            "n": args.n,
            "how": f"{how} --concurrency 50; done when no message row is left",
        }
    if wl == "latency":
        lat_worker = "bench-lat-async" if args.async_latency else "bench-lat"
        if args.latency_breakdown:
            lat_worker = "bench-lat-traced"
        with workers(50) as w:
            w.check_alive()
            result = run_latency(
                args.n,
                args.gap,
                emit=lambda i, t: app.emit({"i": i, "t": t}, lat_worker),
                records=records,
                timeout=args.timeout,
                alive=w.check_alive,
            )
            w.check_alive()
        kind = "async def" if args.async_latency else "def"
        if args.latency_breakdown:
            result["breakdown_ms"] = breakdown(app, lat_worker, records)
        return {**result, "how": f"{how} --concurrency 50; {kind} handler"}
    if wl == "delayed":
        with workers(50) as w:
            warm_up(
                lambda i, t: app.emit({"i": i, "t": t}, "bench-lat"),
                records,
                args.timeout,
                alive=w.check_alive,
            )
            # t: the emit's run_at as this host sees it just before the call (the store's own run_at is a
            # little later), so the figure is start - run_at, if anything overstated
            result = run_latency(
                args.n,
                args.gap,
                emit=lambda i, t: app.emit({"i": i, "t": t + args.delay}, "bench-lat", delay=args.delay),
                records=records,
                timeout=args.timeout,
                alive=w.check_alive,
                warmup=0,
            )
            w.check_alive()
        return {**result, "how": f"{how} --concurrency 50; emits with delay={args.delay:g} s, start - run_at"}
    # io
    per_process = max(1, args.slots // args.processes)
    with workers(per_process) as w:
        warm_up(
            lambda i, t: app.emit({"i": i, "t": t}, "bench-lat"), records, args.timeout, alive=w.check_alive
        )
        t0 = time.perf_counter()
        app.emit_many([({"s": args.sleep}, "bench-io")] * args.n)
        t1 = wait_until(lambda: not left("bench-io"), args.timeout, "the io messages to finish")
        w.check_alive()
    return {
        "seconds": t1 - t0,
        "n": args.n,
        "ideal": args.n * args.sleep / args.slots,
        "how": f"{how} --concurrency {per_process}; async handler (asyncio.sleep)",
    }


if __name__ == "__main__":
    main_guard(main)
