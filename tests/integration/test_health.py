"""Health checks: ``/healthz`` follows the supervisor's and each runner's loop (real processes, no
store query), ``/readyz`` the store and its schema, both without a token; ``conveyor health`` for exec
probes, on both stores."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

import conveyor
from conveyor._cli import main
from conveyor._stores._probe import expected_version
from conveyor._web import create_app

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from deploy_harness import Served, python_path, wait_until

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

TOKEN = "health-test-token-0123456789"
APP = """
import conveyor

app = conveyor.App()

@app.worker("work")
def work(event):
    return event
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    (tmp_path / "healthapp.py").write_text(APP)
    run = Served(
        tmp_path / "run.log",
        "run", "healthapp:app", "--store", f"sqlite:///{tmp_path}/c.db", "--processes", "2",
        "--port", "0", "--liveness-timeout", "1.5", "--grace", "5",
        env={"CONVEYOR_TOKEN": TOKEN, "PYTHONPATH": python_path(tmp_path)},
        cwd=tmp_path,
    )  # fmt: skip
    try:
        run.wait_served()
        yield run
    finally:
        run.close()


def _alive_with(run: Served, count: int) -> dict[str, Any] | None:
    status, body = run.get("/healthz")
    states = [r["state"] for r in body["runners"]]
    return body if status == 200 and states == ["ok"] * count else None


def test_healthz_follows_every_runner_loop_and_needs_no_token(served: Served) -> None:
    body = wait_until(lambda: _alive_with(served, 2), 20, "two runners beating")
    assert body["role"] == "run" and body["supervisor"]["pid"] == served.pid
    pids = {r["pid"] for r in body["runners"]}
    assert pids == set(served.children())
    assert served.get("/api/workers")[0] == 401  # everything else still needs the token
    status, ready = served.get("/readyz")
    assert status == 200, ready
    assert ready["schema"] == {"version": expected_version("sqlite:///x.db")} | {
        "expected": expected_version("sqlite:///x.db")
    }

    stopped = min(pids)
    served_signal(stopped, signal.SIGSTOP)  # its loop can no longer turn
    try:
        status_body = wait_until(lambda: _failing(served), 10, "a 503")
        assert f"runner pid {stopped}'s loop has not turned" in status_body["reason"]
        assert status_body["status"] == "failing"
        assert served.get("/readyz")[0] == 200  # the store still answers: ready, not alive
    finally:
        served_signal(stopped, signal.SIGCONT)
    wait_until(lambda: _alive_with(served, 2), 10, "the runner beating again")
    served.signal(signal.SIGTERM)
    assert served.wait(20) == 0


def _failing(run: Served) -> dict[str, Any] | None:
    status, body = run.get("/healthz")
    return body if status == 503 else None


def served_signal(pid: int, sig: int) -> None:
    os.kill(pid, sig)


def test_a_web_face_alone_is_alive_and_readyz_reports_the_store(tmp_path: Path) -> None:
    app = conveyor.App(f"sqlite:///{tmp_path}/c.db")
    with TestClient(create_app(app, token=TOKEN), base_url="http://testserver") as client:
        alive = client.get("/healthz")
        assert alive.status_code == 200
        assert alive.json() == {"status": "ok", "role": "web", "supervisor": None, "runners": []}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert client.get("/api/workers").status_code == 401
        newer = expected_version(app.url) + 1
        with sqlite3.connect(tmp_path / "c.db") as db:
            db.execute(f"PRAGMA user_version = {newer}")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "newer than this Conveyor knows" in ready.json()["reason"]
        assert client.get("/healthz").status_code == 200
    app.close()
    unreachable = conveyor.App("postgresql://conveyor@127.0.0.1:1/none")
    with TestClient(create_app(unreachable, token=TOKEN), base_url="http://testserver") as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"].startswith("the store cannot be reached")
        assert ready.json()["schema"]["version"] is None


# -- conveyor health -------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'h.db'}"


def health(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["health", *args], env={"CONVEYOR_STORE": url})


def test_conveyor_health_needs_live_runners_and_a_current_schema(url: str) -> None:
    app = conveyor.App(url)
    store = app.store
    try:
        result = health(url)
        assert result.exit_code == 1
        assert "unhealthy: 0 live runners" in result.stderr
        assert health(url, "--min-runners", "0").exit_code == 0

        here = f"{socket.gethostname()}:4242:abcd"
        store.heartbeat(here, ["work"], 30.0)
        result = health(url, "--json")
        assert result.exit_code == 0, result.output
        report = orjson.loads(result.stdout)
        assert report["healthy"] and report["reachable"] and report["reason"] is None
        assert [r["id"] for r in report["runners"]] == [here]
        assert report["schema"]["version"] == report["schema"]["expected"] == expected_version(url)
        assert health(url, "--here").exit_code == 0

        store.leave(here)
        store.heartbeat("elsewhere:1:ffff", ["work"], 30.0)
        assert health(url).exit_code == 0
        result = health(url, "--here")
        assert result.exit_code == 1
        assert f"0 live runners on host {socket.gethostname()}" in result.stderr
    finally:
        app.close()


def test_conveyor_health_reports_a_missing_or_unreachable_store(tmp_path: Path) -> None:
    result = health(f"sqlite:///{tmp_path}/none.db")
    assert result.exit_code == 1
    assert "cannot read the store" in result.stderr
    assert not (tmp_path / "none.db").exists()  # a health check creates nothing
    result = health("postgresql://conveyor@127.0.0.1:1/none", "--json")
    assert result.exit_code == 1
    report = orjson.loads(result.stdout)
    assert report["reachable"] is False and report["healthy"] is False
    assert health("mysql://x").exit_code == 2
