"""Conveyor alone on SQLite: emit rate (one call at a time) and in-process ``app.drain()`` rate, with
peak memory, and (``--profile``) where the time of one emit goes.

    python -m bench.core                 # 10,000 messages; rates and peak RSS
    python -m bench.core --profile       # also: component timings per emit and a pyinstrument tree

Each phase runs in a fresh child process so that its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PG = "postgresql://postgres@127.0.0.1:5432"
EVENT_SIZE_NOTE = 'each event is {"i": <n>}'


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _app(db: str) -> Any:
    """``db``: a SQLite file path, or a ``postgresql://`` URL (``--store pg``)."""
    import conveyor

    app = conveyor.App(db if db.startswith("postgresql") else f"sqlite:///{db}")

    @app.worker("noop", traces=10)
    def noop(event: Any) -> None:
        return None

    return app


def phase_emit(n: int, path: str) -> dict[str, Any]:
    app = _app(path)
    app.emit({"i": -1}, "noop")  # open and migrate the store outside the timing
    base = _current_rss_mb()
    emit = app.emit
    t0 = time.perf_counter()
    for i in range(n):
        emit({"i": i}, "noop")
    elapsed = time.perf_counter() - t0
    queued = sum(s.queued for s in app.status().values())
    app.close()
    return {
        "phase": "emit",
        "n": n,
        "seconds": elapsed,
        "rate": n / elapsed,
        "queued_after": queued,
        "rss_before_mb": base,
        "peak_rss_mb": _rss_mb(),
    }


def phase_drain(n: int, path: str) -> dict[str, Any]:
    app = _app(path)
    app.emit_many([({"i": i}, "noop") for i in range(n)])
    base = _current_rss_mb()
    t0 = time.perf_counter()
    done = app.drain()
    elapsed = time.perf_counter() - t0
    left = sum(s.queued + s.running for s in app.status().values())
    app.close()
    return {
        "phase": "drain",
        "n": n,
        "handled": done,
        "seconds": elapsed,
        "rate": done / elapsed,
        "left_after": left,
        "rss_before_mb": base,
        "peak_rss_mb": _rss_mb(),
    }


def _per_call(fn: Any, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def phase_components(n: int, path: str) -> dict[str, Any]:
    """Time the pieces of one emit on their own (µs per call), against a full emit in the same process."""
    from conveyor._codec import encode_event
    from conveyor._registry import check_worker_name
    from conveyor._stores import NewMessage

    app = _app(path)
    app.emit({"i": -1}, "noop")
    emitter = app.emitter
    store = app.store
    event = {"i": 1}
    sql = store._q.enqueue  # type: ignore[attr-defined]
    # The same schema (tables, indexes, triggers) and page size in a plain sqlite3 connection: the floor.
    db = store._db  # type: ignore[attr-defined]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    ddl = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    ]
    table = next(d for d in ddl if d.upper().startswith("CREATE TABLE MESSAGES"))
    raw = sqlite3.connect(str(path) + ".raw.db", isolation_level=None)
    bare = sqlite3.connect(str(path) + ".bare.db", isolation_level=None)
    for conn, statements in ((raw, ddl), (bare, [table])):
        conn.execute(f"PRAGMA page_size = {page_size}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for statement in statements:
            conn.execute(statement)
    out_page = {"page_size": page_size, "schema_objects": len(ddl)}
    data = encode_event(event, 1 << 20)
    msg = NewMessage("noop", data, 0.0, None)
    now = time.time()
    params = ("noop", data, now, now, None, None, None, False)
    out: dict[str, Any] = {"phase": "components", "n": n, **out_page}
    # Interleave twice and keep the best, to damp the noise of a shared machine.
    for _ in range(2):
        for name, fn in (
            ("app.emit (whole call)", lambda: app.emit(event, "noop")),
            ("emitter.prepare (checks + encode)", lambda: emitter.prepare(event, "noop")),
            ("check_worker_name", lambda: check_worker_name("noop")),
            ("encode_event (orjson + checks)", lambda: encode_event(event, 1 << 20)),
            ("NewMessage(...)", lambda: NewMessage("noop", data, 0.0, None)),
            ("store.enqueue([msg]) (lock + execute)", lambda: store.enqueue([msg])),
            ("raw sqlite3 execute, same INSERT, same schema, autocommit", lambda: raw.execute(sql, params)),
            ("raw sqlite3 execute, same INSERT, messages table alone", lambda: bare.execute(sql, params)),
            ("time.time()", time.time),
        ):
            us = _per_call(fn, n)
            out[name] = min(us, out.get(name, us))
    raw.close()
    bare.close()
    app.close()
    return out


def phase_profile(n: int, path: str) -> dict[str, Any]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"phase": "profile", "error": "pyinstrument is not installed: pip install -e '.[bench]'"}
    app = _app(path)
    app.emit({"i": -1}, "noop")
    emit = app.emit
    profiler = Profiler(interval=0.0001)
    profiler.start()
    for i in range(n):
        emit({"i": i}, "noop")
    profiler.stop()
    session = profiler.last_session
    assert session is not None
    rows: dict[str, float] = {}

    def walk(frame: Any) -> None:
        if not frame.is_synthetic:
            where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
            rows[where] = rows.get(where, 0.0) + frame.total_self_time
        for child in frame.children:
            walk(child)

    root = session.root_frame()
    if root is not None:
        walk(root)
    total = session.duration
    self_times = sorted(((t / n * 1e6, where) for where, t in rows.items()), reverse=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)
    app.close()
    return {
        "phase": "profile",
        "n": n,
        "seconds": total,
        "us_per_emit": total / n * 1e6,
        "self_us_per_emit": [[round(us, 2), where] for us, where in self_times[:15]],
        "tree": text,
    }


PHASES = {"emit": phase_emit, "drain": phase_drain, "components": phase_components, "profile": phase_profile}


def _child(phase: str, n: int, store: str = "sqlite", pg: str = PG) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp, _scratch(store, pg, phase, tmp) as db:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.core", "--child", phase, "-n", str(n), "--db", db],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=600,
            check=False,
        )
    if proc.returncode != 0:
        raise SystemExit(f"bench.core {phase} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def _scratch(store: str, pg: str, tag: str, tmp: str) -> Iterator[str]:
    """A fresh store for one phase: a SQLite file in ``tmp``, or a scratch PostgreSQL database."""
    if store == "sqlite":
        yield str(Path(tmp) / "b.db")
        return
    from bench.__main__ import ScratchPostgres

    scratch = ScratchPostgres(pg, f"core_{tag}")
    try:
        yield scratch.url
    finally:
        scratch.drop()


def profile_drain(n: int, rate: int = 2000, store: str = "sqlite", pg: str = PG) -> str:
    """py-spy (all threads: the loop, the store thread, the handler pool) over an in-process drain.

    ``app.drain()`` runs the runner code that ``conveyor run`` runs in each process; the figures are for
    one process. Returns a report of where the samples that held the GIL fell.
    """
    import shutil

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return "py-spy is not installed (pip install py-spy)"
    with (
        tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp,
        _scratch(store, pg, "pdrain", tmp) as db,
    ):
        raw = Path(tmp) / "drain.txt"
        argv = [
            spy,
            "record",
            "--format",
            "raw",
            "--threads",
            "--gil",  # only samples that hold the GIL: a thread blocked in a queue or a lock is not work
            "--rate",
            str(rate),
            "-o",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "bench.core",
            "--child",
            "drain",
            "-n",
            str(n),
            "--db",
            db,
        ]
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0 or not raw.exists():
            return f"py-spy failed ({proc.returncode}): {proc.stderr[-600:]}"
        stacks = [
            line.rsplit(" ", 1)
            for line in raw.read_text().splitlines()
            # only the drain: the main thread inside App.drain, and the runner's own threads
            if line.strip() and ("App.drain" in line or "conveyor-" in line.split(";", 1)[0])
        ]
    drain = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("{")))
    total = sum(int(c) for _, c in stacks)
    by_thread: dict[str, int] = {}
    leaf: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for stack, count in stacks:
        frames = stack.split(";")
        c = int(count)
        thread = next((f for f in frames if f.startswith("thread ")), "thread ?")
        thread = thread.split(": ", 1)[1] if ": " in thread else "(unnamed)"  # threads of one name together
        by_thread[thread] = by_thread.get(thread, 0) + c
        code = [f for f in frames if "(" in f and not f.startswith(("thread ", "process "))]
        if code:
            name = _frame_name(code[-1])
            leaf[name] = leaf.get(name, 0) + c
        for name in {_frame_name(f) for f in code if "conveyor/" in f}:
            inclusive[name] = inclusive.get(name, 0) + c
    per_msg = drain["seconds"] / max(1, drain["handled"]) * 1e6
    lines = [
        f"py-spy, {rate} samples/s, all threads, in-process app.drain() of {drain['handled']:,} no-op "
        f"messages: {drain['rate']:,.0f} msgs/s under the profiler ({per_msg:.1f} µs per message of wall "
        f"time); {total:,} samples holding the GIL inside the drain (imports and the enqueue before it left "
        "out; SQLite and psycopg release the GIL while they wait, so database time shows only in part).",
        "",
        "Samples by thread:",
        *(f"  {c / total:6.1%}  {t}" for t, c in sorted(by_thread.items(), key=lambda x: -x[1])),
        "",
        "Where the samples end (self time), top 20:",
        *(f"  {c / total:6.1%}  {name}" for name, c in sorted(leaf.items(), key=lambda x: -x[1])[:20]),
        "",
        "Conveyor functions on the stack (inclusive), top 20:",
        *(f"  {c / total:6.1%}  {name}" for name, c in sorted(inclusive.items(), key=lambda x: -x[1])[:20]),
    ]
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (to/file.py)``: lines merged, the path shortened."""
    func, _, rest = frame.partition(" (")
    path = rest.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(path.split("/")[-2:])
    return f"{func} ({short})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="messages per phase (default 10,000)")
    parser.add_argument("--profile", action="store_true", help="also profile the emit path")
    parser.add_argument(
        "--profile-drain",
        action="store_true",
        help="also profile an in-process drain with py-spy (all threads)",
    )
    parser.add_argument(
        "--store",
        choices=["sqlite", "pg"],
        default="sqlite",
        help="sqlite (default), or pg: a scratch database per phase on --pg (no piece-by-piece timings)",
    )
    parser.add_argument("--pg", default=PG, help="the PostgreSQL server for --store pg")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--child", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(PHASES[args.child](args.n, args.db)))
        return 0
    kind = (args.store, args.pg)
    results = [_child("emit", args.n, *kind), _child("drain", args.n, *kind)]
    if args.profile:
        components = _child("components", min(args.n, 20_000)) if args.store == "sqlite" else {"skipped": 1}
        results += [components, _child("profile", args.n, *kind)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    import sqlite3 as s

    print(
        f"Conveyor on {'SQLite ' + s.sqlite_version if args.store == 'sqlite' else 'PostgreSQL'}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{EVENT_SIZE_NOTE}; one fresh process per phase"
    )
    for r in results[:2]:
        extra = (
            f"queued after: {r['queued_after']}"
            if r["phase"] == "emit"
            else (f"handled: {r['handled']}, left: {r['left_after']}")
        )
        print(
            f"  {r['phase']:<6} {r['n']:>7,} msgs  {r['seconds']:7.3f} s  {r['rate']:>9,.0f} msgs/s  "
            f"peak RSS {r['peak_rss_mb']:.1f} MB (before the phase {r['rss_before_mb']:.1f} MB)  {extra}"
        )
    if args.profile:
        comp = results[2]
        if "skipped" not in comp:
            print(f"\nOne emit, piece by piece (µs per call, best of 2 x {comp['n']:,} calls):")
            print(
                f"  (page_size {comp['page_size']}, {comp['schema_objects']} schema objects copied "
                "for the raw rows)"
            )
            for key, value in comp.items():
                if key not in ("phase", "n", "page_size", "schema_objects"):
                    print(f"  {value:8.2f}  {key}")
        prof = results[3]
        if "error" in prof:
            print(f"\nprofile: {prof['error']}")
        else:
            print(
                f"\npyinstrument, {prof['n']:,} emits, {prof['us_per_emit']:.2f} µs per emit under the "
                "profiler; self time per emit by function:"
            )
            for us, where in prof["self_us_per_emit"]:
                print(f"  {us:8.2f} µs  {where}")
            print("\n" + prof["tree"])
    if args.profile_drain:
        print("\n" + profile_drain(args.n, store=args.store, pg=args.pg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
