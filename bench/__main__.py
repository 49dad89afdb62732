"""``python -m bench``: Conveyor (SQLite, PostgreSQL), Celery and RQ side by side; one table of figures
and ratios against the fastest peer. See docs/benchmarks.md.

Each system runs each workload in a fresh driver process (bench/peers/<system>_driver.py) inside its
own environment: Conveyor in the project's venv, Celery and RQ in bench/.venvs/<peer>, created with
pip on first use. Each Conveyor workload gets a fresh store (a new SQLite file, or a scratch
PostgreSQL database created and dropped by the harness); each peer workload a flushed Redis db.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._bytecode import precompile
from ._venvs import PEERS, peer_python

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / "peers"
RESULTS = HERE / "results"

SYSTEMS = ("conveyor-sqlite", "conveyor-pg", "celery", "rq")
LABELS = {
    "conveyor-sqlite": "Conveyor (SQLite)",
    "conveyor-pg": "Conveyor (PostgreSQL)",
    "celery": "Celery 5.7 (Redis)",
    "rq": "RQ 2.12 (Redis)",
}
PEER_SYSTEMS = ("celery", "rq")
WORKLOADS = ("emit", "drain", "latency", "io", "delayed")
CONVEYOR_ONLY = ("delayed",)
"""Workloads the peers' drivers do not run."""


@dataclass
class Config:
    n_emit: int = 10_000
    n_drain: int = 10_000
    n_latency: int = 500
    gap: float = 0.005
    delay: float = 0.05
    n_io: int = 1_000
    io_sleep: float = 0.05
    slots: int = 100
    timeout: float = 300.0
    redis: str = "redis://127.0.0.1:6379"
    redis_dbs: tuple[int, int] = (15, 14)
    pg: str = "postgresql://postgres@127.0.0.1:5432"
    conveyor_mode: str = "auto"
    systems: list[str] = field(default_factory=lambda: list(SYSTEMS))
    workloads: list[str] = field(default_factory=lambda: list(WORKLOADS))


SMOKE = {
    "n_emit": 50,
    "n_drain": 50,
    "n_latency": 10,
    "n_io": 20,
    "slots": 4,
    "timeout": 60.0,
    "redis_dbs": (13, 12),
}


# -- services ------------------------------------------------------------------------------------
def redis_ping(url: str, timeout: float = 2.0) -> str | None:
    """None if Redis answers PING at ``url``, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = s.recv(64)
    except OSError as error:
        return f"Redis at {host}:{port} is unreachable: {error}"
    return None if reply.startswith(b"+PONG") else f"Redis at {host}:{port} answered {reply!r}"


class ScratchPostgres:
    """A database created for one workload and dropped after it."""

    def __init__(self, base: str, tag: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.base = base.rstrip("/")
        self.name = f"conveyor_bench_{os.getpid()}_{tag}"
        for attempt in range(3):  # the server may be restarting (other tests restart it)
            try:
                with psycopg.connect(f"{self.base}/postgres", autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                    conn.execute(f'CREATE DATABASE "{self.name}"')
                break
            except psycopg.OperationalError:
                if attempt == 2:
                    raise
                time.sleep(2)
        self.url = f"{self.base}/{self.name}"

    def drop(self) -> None:
        for attempt in range(3):  # the server may be restarting (other tests restart it)
            try:
                with self._psycopg.connect(
                    f"{self.base}/postgres", autocommit=True, connect_timeout=5
                ) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                return
            except self._psycopg.OperationalError:
                if attempt == 2:
                    raise
                time.sleep(2)

    @staticmethod
    def drop_stale(base: str) -> None:
        """Drop scratch databases left by harness runs whose process is gone (killed mid-run)."""
        import psycopg

        with psycopg.connect(f"{base.rstrip('/')}/postgres", autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'conveyor\\_bench\\_%'"
            ).fetchall()
            for (name,) in rows:
                pid = name.split("_")[2]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- running one driver --------------------------------------------------------------------------
def _driver_args(cfg: Config, workload: str) -> list[str]:
    n = {"emit": cfg.n_emit, "drain": cfg.n_drain, "latency": cfg.n_latency, "io": cfg.n_io}.get(
        workload, cfg.n_latency
    )
    return [
        workload,
        "--n",
        str(n),
        "--slots",
        str(cfg.slots),
        "--gap",
        str(cfg.gap),
        *(["--delay", str(cfg.delay)] if workload in CONVEYOR_ONLY else []),
        "--sleep",
        str(cfg.io_sleep),
        "--timeout",
        str(cfg.timeout),
    ]


def run_one(system: str, workload: str, cfg: Config, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{system}-{workload}"
    out.mkdir(parents=True, exist_ok=True)
    pg: ScratchPostgres | None = None
    try:
        if system.startswith("conveyor"):
            python = sys.executable
            if system == "conveyor-sqlite":
                store = f"sqlite:///{out / 'conveyor.db'}"
            else:
                pg = ScratchPostgres(cfg.pg, workload)
                store = pg.url
            argv = [
                python,
                str(PEER_DIR / "conveyor_driver.py"),
                *_driver_args(cfg, workload),
                "--out",
                str(out),
                "--store",
                store,
                "--mode",
                cfg.conveyor_mode,
            ]
        else:
            python = str(peer_python(system))
            db = cfg.redis_dbs[PEER_SYSTEMS.index(system)]
            argv = [
                python,
                str(PEER_DIR / f"{system}_driver.py"),
                *_driver_args(cfg, workload),
                "--out",
                str(out),
                "--redis",
                f"{cfg.redis.rstrip('/')}/{db}",
            ]
        env = {k: v for k, v in os.environ.items() if k not in ("CONVEYOR_STORE", "PYTHONPATH")}
        if system.startswith("conveyor") and os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        started = time.monotonic()
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=PEER_DIR,
            env=env,
            timeout=cfg.timeout * 2 + 120,
            check=False,
        )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            return {
                "error": f"driver exited {proc.returncode} without a result: {proc.stderr.strip()[-800:]}"
            }
        result = dict(json.loads(lines[-1]))
        if "error" in result and proc.stderr.strip():
            result["error"] += f" | {proc.stderr.strip()[-400:]}"
        result["driver_seconds"] = time.monotonic() - started
        return result
    except subprocess.TimeoutExpired:
        return {"error": "driver timed out"}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        if pg is not None:
            try:
                pg.drop()
            except Exception as error:
                print(f"bench: could not drop {pg.name}: {error}", file=sys.stderr)


# -- the table -----------------------------------------------------------------------------------
ROWS: list[tuple[str, str, str, bool]] = [
    # label, workload, key, higher is better
    ("emit, msgs/s", "emit", "rate", True),
    ("raw single-row commits/s (bare driver)", "emit", "raw_commit_rate", True),
    ("drain, msgs/s", "drain", "rate", True),
    ("  worker start to first ack, s", "drain", "startup_s", False),
    ("  drain after the first ack, msgs/s", "drain", "steady_rate", True),
    ("latency p50, ms", "latency", "p50_ms", False),
    ("latency p95, ms", "latency", "p95_ms", False),
    ("latency p99, ms", "latency", "p99_ms", False),
    ("io wall, s", "io", "seconds", False),
    ("delayed emit, start - run_at p50, ms", "delayed", "p50_ms", False),
    ("delayed emit, start - run_at p99, ms", "delayed", "p99_ms", False),
]


def _fmt(value: float, key: str) -> str:
    if key in ("rate", "raw_commit_rate", "steady_rate"):
        return f"{value:,.0f}"
    if key in ("seconds", "startup_s"):
        return f"{value:.3f}"
    return f"{value:.2f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3f}x"


def ratios(results: dict[str, dict[str, dict[str, Any]]]) -> dict[tuple[str, str, str], float]:
    """(system, workload, key) -> how many times better than the fastest peer (>1 = better)."""
    out: dict[tuple[str, str, str], float] = {}
    for _label, workload, key, higher in ROWS:
        if key == "raw_commit_rate":
            continue
        peer_values = [results.get(p, {}).get(workload, {}).get(key) for p in PEER_SYSTEMS]
        peers = [v for v in peer_values if isinstance(v, int | float) and v > 0]
        if not peers:
            continue
        best = max(peers) if higher else min(peers)
        for system, per in results.items():
            value = per.get(workload, {}).get(key)
            if isinstance(value, int | float) and value > 0:
                out[(system, workload, key)] = value / best if higher else best / value
    return out


def table(results: dict[str, dict[str, dict[str, Any]]], cfg: Config) -> str:
    systems = [s for s in cfg.systems if s in results]
    ratio = ratios(results)
    head = ["workload", *(LABELS[s] for s in systems)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(systems)) + "|"]
    for label, workload, key, _higher in ROWS:
        if workload not in cfg.workloads:
            continue
        cells = [
            label if workload != "io" else f"io wall, s (ideal {cfg.n_io * cfg.io_sleep / cfg.slots:.2f})"
        ]
        for s in systems:
            r = results[s].get(workload, {})
            if "error" in r:
                cells.append("n/a")
                continue
            if key not in r:
                cells.append("")
                continue
            cell = _fmt(r[key], key)
            if (s, workload, key) in ratio:
                cell += f" ({_ratio(ratio[(s, workload, key)])})"
            if "FALLBACK" in str(r.get("how", "")):
                cell += " †"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


TARGETS = {
    # DESIGN.md section 6 (absolute, this machine) and issue 6 (ratios against the fastest peer).
    "conveyor-sqlite": [
        ("emit", "rate", ">=", 30_000.0),
        ("drain", "rate", ">=", 21_000.0),
        ("latency", "p50_ms", "<=", 0.5),
        ("latency", "p99_ms", "<=", 5.0),
        ("io", "seconds", "<=", 0.6),
        ("delayed", "p50_ms", "<=", 10.0),
    ],
    "conveyor-pg": [
        ("drain", "rate", ">=", 19_000.0),
        ("latency", "p50_ms", "<=", 1.5),
        ("latency", "p99_ms", "<=", 5.0),
        ("io", "seconds", "<=", 0.6),
        ("delayed", "p50_ms", "<=", 10.0),
    ],
}
RATIO_TARGETS = [("emit", "rate", 5.0), ("drain", "rate", 10.0), ("latency", "p50_ms", 2.0)]


def verdicts(results: dict[str, dict[str, dict[str, Any]]], cfg: Config) -> list[str]:
    out = []
    ratio = ratios(results)
    full = cfg.n_emit >= 10_000 and cfg.n_io >= 1_000
    for system in ("conveyor-sqlite", "conveyor-pg"):
        if system not in results:
            continue
        marks = []
        for workload, key, op, limit in TARGETS[system] if full else []:
            value = results[system].get(workload, {}).get(key)
            if isinstance(value, int | float):
                ok = value >= limit if op == ">=" else value <= limit
                marks.append(
                    f"{workload} {key} {_fmt(value, key)} {op} {_fmt(limit, key)}: "
                    f"{'met' if ok else 'MISSED'}"
                )
        for workload, key, limit in RATIO_TARGETS:
            if (system, workload, key) in ratio:
                got = ratio[(system, workload, key)]
                marks.append(
                    f"{workload} {key} {got:.2f}x the fastest peer, target {limit:g}x: "
                    f"{'met' if got >= limit else 'MISSED'}"
                )
        emit = results[system].get("emit", {})
        if system == "conveyor-pg" and emit.get("raw_commit_rate"):
            got = emit["rate"] / emit["raw_commit_rate"]
            marks.append(
                f"emit {got:.0%} of raw single-row commits/s, target >= 85%: "
                f"{'met' if got >= 0.85 else 'MISSED'}"
            )
        io = results[system].get("io", {})
        if "seconds" in io and "ideal" in io:
            got = io["seconds"] / io["ideal"]
            marks.append(
                f"io {got:.2f}x the ideal {io['ideal']:.2f} s, target ≤ 1.2x: "
                f"{'met' if got <= 1.2 else 'MISSED'}"
            )
        out.append(f"{LABELS[system]}: " + ("; ".join(marks) if marks else "no figures"))
    return out


def notes(results: dict[str, dict[str, dict[str, Any]]], cfg: Config) -> list[str]:
    out = []
    for system in cfg.systems:
        for workload in cfg.workloads:
            r = results.get(system, {}).get(workload, {})
            if "error" in r:
                out.append(f"{LABELS[system]} {workload}: ERROR {r['error']}")
            elif r.get("how"):
                out.append(f"{LABELS[system]} {workload}: {r['how']}")
    return out


# -- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}"
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated, of {', '.join(WORKLOADS)}"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a few messages through everything (the CI test)"
    )
    parser.add_argument("--n-emit", type=int)
    parser.add_argument("--n-drain", type=int)
    parser.add_argument("--n-latency", type=int)
    parser.add_argument("--n-io", type=int)
    parser.add_argument("--slots", type=int)
    parser.add_argument(
        "--redis", default=Config.redis, help="Redis for the peers (db 15 and 14 are flushed)"
    )
    parser.add_argument(
        "--pg", default=Config.pg, help="PostgreSQL server; a scratch db is created and dropped"
    )
    parser.add_argument(
        "--conveyor-mode",
        choices=["auto", "cli", "fallback"],
        default="auto",
        help="auto: `conveyor run` if it exists, else the labelled in-process fallback",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    cfg = Config(**(SMOKE if args.smoke else {}))  # type: ignore[arg-type]
    for name in ("n_emit", "n_drain", "n_latency", "n_io", "slots"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    cfg.redis, cfg.pg, cfg.conveyor_mode = args.redis, args.pg, args.conveyor_mode
    cfg.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    cfg.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [s for s in cfg.systems if s not in SYSTEMS] + [w for w in cfg.workloads if w not in WORKLOADS]
    if bad:
        parser.error(f"unknown system or workload: {', '.join(bad)}")

    precompile()  # as pip does at install: no process below compiles Conveyor's sources on start-up
    if any(s in PEER_SYSTEMS for s in cfg.systems):
        why = redis_ping(cfg.redis)
        if why:
            print(
                f"bench: {why}; Celery and RQ need it (start redis-server, or pass --redis URL)",
                file=sys.stderr,
            )
            return 2
        for peer in PEERS:
            if peer in cfg.systems:
                peer_python(peer)

    if any(s.startswith("conveyor-pg") for s in cfg.systems):
        try:
            ScratchPostgres.drop_stale(cfg.pg)
        except Exception as error:
            print(f"bench: could not look for stale scratch databases: {error}", file=sys.stderr)

    started = time.time()
    load_before = os.getloadavg()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as tmp:
        for system in cfg.systems:
            results[system] = {}
            for workload in cfg.workloads:
                if workload in CONVEYOR_ONLY and system in PEER_SYSTEMS:
                    continue
                print(f"bench: {LABELS[system]} {workload} ...", file=sys.stderr, flush=True)
                r = run_one(system, workload, cfg, Path(tmp))
                results[system][workload] = r
                if "error" in r:
                    print(f"bench:   error: {r['error'][:300]}", file=sys.stderr, flush=True)

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    load_after = os.getloadavg()
    print(f"\nConveyor vs Celery vs RQ — {when}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    busy = max(load_before[0], load_after[0]) > (os.cpu_count() or 1)
    print(
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        + (": above the CPU count, other processes shared the cores; every figure is noisier" if busy else "")
    )
    print(
        f"emit {cfg.n_emit:,} · drain {cfg.n_drain:,} · "
        f"latency {cfg.n_latency} x {cfg.gap * 1000:g} ms apart · "
        f"io {cfg.n_io:,} x {cfg.io_sleep * 1000:g} ms on {cfg.slots} slots\n"
    )
    print(table(results, cfg))
    print(
        "\n(x) = times better than the fastest of Celery and RQ in this run (rates: value / best; times: "
        "best / value); † = Conveyor ran in the labelled in-process fallback, not `conveyor run`."
    )
    print("\nTargets:")
    for line in verdicts(results, cfg):
        print(f"- {line}")
    print("\nHow each ran:")
    for line in notes(results, cfg):
        print(f"- {line}")
    payload = {
        "started": when,
        "loadavg": [load_before[0], load_after[0]],
        "config": dict(vars(cfg)),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / time.strftime("%Y%m%dT%H%M%S.json", time.gmtime(started))).write_text(
        json.dumps(payload, indent=2)
    )
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2))
    failed = [f"{s}/{w}" for s, per in results.items() for w, r in per.items() if "error" in r]
    if failed:
        print(f"\nbench: {len(failed)} runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
