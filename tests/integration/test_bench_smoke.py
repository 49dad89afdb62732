"""The benchmark harness end to end, with a few messages through every system.

``python -m bench --smoke`` runs the four workloads (emit, drain, latency, io) for Conveyor on SQLite,
Conveyor on PostgreSQL (a scratch database it creates and drops), Celery and RQ (Redis), each peer in
its own venv under bench/.venvs/ (built with pip on first use: a minute or two), and the delayed-emit
workload for Conveyor alone. Redis and PostgreSQL
must be reachable: in CI their absence is a failure, locally a skip that says why.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from _shared import in_ci

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = ("conveyor-sqlite", "conveyor-pg", "celery", "rq")
WORKLOADS = ("emit", "drain", "latency", "io")
CONVEYOR_ONLY = ("delayed",)


def _reachable(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"{host}:{port} unreachable ({error})"


@pytest.fixture
def services() -> None:
    problems = [f"Redis {why}" for why in [_reachable("127.0.0.1", 6379)] if why] + [
        f"PostgreSQL {why}" for why in [_reachable("127.0.0.1", 5432)] if why
    ]
    if problems:
        message = "the benchmark smoke test needs " + "; ".join(problems)
        if in_ci():
            pytest.fail(message)
        pytest.skip(message + " (a failure in CI)")


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("services")
def test_every_system_runs_every_workload(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "CONVEYOR_STORE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, report
    payload = json.loads(out.read_text())
    results = payload["results"]
    config = payload["config"]
    assert set(results) == set(SYSTEMS), report
    for system in SYSTEMS:
        per = results[system]
        only = CONVEYOR_ONLY if system.startswith("conveyor") else ()
        assert set(per) == {*WORKLOADS, *only}, report
        for workload, r in per.items():
            assert "error" not in r, f"{system} {workload}: {r.get('error')}\n{report}"
            if system.startswith("conveyor") and workload != "emit":
                assert "conveyor run" in r["how"], (
                    f"{system} {workload} did not use `conveyor run`: {r['how']}"
                )
        assert per["emit"]["n"] == config["n_emit"] and per["emit"]["rate"] > 0
        assert per["drain"]["n"] == config["n_drain"] and per["drain"]["rate"] > 0
        lat = per["latency"]
        assert lat["n"] == config["n_latency"]
        assert 0 <= lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"] <= lat["max_ms"]
        io = per["io"]
        # Nothing can finish n sleeps on `slots` slots faster than n * sleep / slots.
        assert io["seconds"] >= 0.95 * io["ideal"] > 0, f"{system} io: {io}\n{report}"
        if only:
            delayed = per["delayed"]
            assert delayed["n"] == config["n_latency"]
            assert 0 <= delayed["p50_ms"] <= delayed["p99_ms"] <= delayed["max_ms"]
    table = proc.stdout
    for label in ("Conveyor (SQLite)", "Conveyor (PostgreSQL)", "Celery", "RQ", "emit, msgs/s", "io wall"):
        assert label in table, report


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_schedules_benchmark_runs_on_both_stores(tmp_path: Path) -> None:
    """``python -m bench.schedules --smoke``: a few ticks and a short idle window on SQLite and PostgreSQL."""
    why = _reachable("127.0.0.1", 5432)
    if why:
        message = f"the schedules benchmark needs PostgreSQL: {why}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message + " (a failure in CI)")
    out = tmp_path / "schedules.json"
    env = {k: v for k, v in os.environ.items() if k != "CONVEYOR_STORE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.schedules", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, report
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"sqlite", "pg"}, report
    for store, figures in results.items():
        lat, idle = figures["latency"], figures["idle"]
        assert lat["ticks"] == 3, f"{store}: {report}"
        assert 0 <= lat["emit_p50"] <= lat["emit_p99"] <= lat["emit_max"], f"{store}: {report}"
        assert lat["start_p50"] >= lat["emit_p50"] - 1, f"{store}: {report}"
        assert idle["runners"] == 2 and idle["cpu_pct"] >= 0 and idle["rss_mb"] > 0, f"{store}: {report}"
    for label in ("SQLite", "PostgreSQL", "tick→emit p50 ms", "idle runner, 100 schedules"):
        assert label in proc.stdout, report


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_results_benchmark_runs_on_both_stores(tmp_path: Path) -> None:
    """``python -m bench.results --smoke``: a few waits across processes and a small fan of waiters."""
    why = _reachable("127.0.0.1", 5432)
    if why:
        message = f"the results benchmark needs PostgreSQL: {why}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message + " (a failure in CI)")
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "CONVEYOR_STORE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.results", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, report
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"sqlite", "pg"}, report
    for store, figures in results.items():
        wake, many = figures["wake"], figures["fan"]
        assert wake["waits"] == 10 and 0 <= wake["p50_ms"] <= wake["p99_ms"] <= wake["max_ms"], (
            f"{store}: {report}"
        )
        assert many["waiters"] == 50 and 1 <= many["looks"] <= 50, f"{store}: {report}"
    for label in ("SQLite", "PostgreSQL", "commit→wake p50 ms"):
        assert label in proc.stdout, report
