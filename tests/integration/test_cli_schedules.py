"""``conveyor schedules``, ``schedules pause NAME`` and ``schedules resume NAME``: in-process through
click's runner for an APP's own schedules, and against a real ``conveyor run`` for the schedules its
runners publish to the store. Both stores."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

import conveyor
from conveyor._cli import main

APP = """
import conveyor

app = conveyor.App()

@app.worker("report")
def report(event):
    return event

app.schedule("nightly-report", "report", cron="0 3 * * *", tz="Europe/Paris")
app.schedule("tick", "report", event={"n": 1}, every=1, misfire="skip")
"""


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    made = conveyor.App(url)
    made.store  # noqa: B018 - the store exists: read commands do not create one
    made.close()
    return url


@pytest.fixture
def app_file(tmp_path: Path) -> str:
    path = tmp_path / "sched_app.py"
    path.write_text(APP)
    return str(path)


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"CONVEYOR_STORE": url})


def ok(url: str, *args: str) -> str:
    result = cli(url, *args)
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result.stdout


def listed(url: str, *args: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in orjson.loads(ok(url, "schedules", *args, "--json"))}


def test_an_apps_schedules_listed_paused_and_resumed(url: str, app_file: str) -> None:
    assert ok(url, "schedules").strip() == "no schedules"  # no APP and no live runner: none
    found = listed(url, app_file)
    assert list(found) == ["nightly-report", "tick"]  # sorted by name
    nightly = found["nightly-report"]
    assert nightly | {"next_at": None} == {
        "name": "nightly-report",
        "worker": "report",
        "cron": "0 3 * * *",
        "every": None,
        "tz": "Europe/Paris",
        "misfire": "latest",
        "paused": False,
        "last_at": None,
        "next_at": None,
    }
    next_at = datetime.fromisoformat(nightly["next_at"])
    assert next_at > datetime.now(UTC)
    assert next_at.astimezone(UTC).minute == 0  # 03:00 in Paris: 01:00 or 02:00 UTC
    tick = found["tick"]
    assert tick["every"] == 1 and tick["cron"] is None and tick["misfire"] == "skip"

    table = ok(url, "schedules", app_file)
    assert "nightly-report" in table and "0 3 * * *" in table and "Europe/Paris" in table
    assert "every 1 s" in table and "never" in table and "active" in table

    done = ok(url, "schedules", "pause", "nightly-report", app_file)
    assert done.strip() == "paused schedule nightly-report"
    assert listed(url, app_file)["nightly-report"]["paused"] is True
    assert listed(url, app_file)["tick"]["paused"] is False
    assert "paused" in ok(url, "schedules", app_file)
    done = ok(url, "schedules", "resume", "nightly-report", app_file)
    assert done.strip() == "resumed schedule nightly-report"
    assert listed(url, app_file)["nightly-report"]["paused"] is False


def test_unknown_and_invalid_names(url: str, app_file: str, tmp_path: Path) -> None:
    for verb in ("pause", "resume"):
        missing = cli(url, "schedules", verb, "nightly-report")  # no APP, no live runner defines it
        assert missing.exit_code == 1, missing.output
        assert missing.stderr.count("\n") == 1 and "no schedule 'nightly-report'" in missing.stderr
        other = cli(url, "schedules", verb, "weekly", app_file)
        assert other.exit_code == 1 and "no schedule 'weekly'" in other.stderr
    fresh = tmp_path / "never" / "made.db"
    for args in (
        ("schedules", "pause", "bad name!"),
        ("schedules", "resume", "-x"),
        ("schedules", "pause", "x" * 201),
        ("schedules", "pause"),
        ("schedules", "--store", f"sqlite:///{fresh}", "pause", "no/such name"),
    ):
        bad = CliRunner().invoke(main, list(args), env={"CONVEYOR_STORE": f"sqlite:///{fresh}"})
        assert bad.exit_code == 2, (args, bad.output)
        assert bad.stderr.startswith("Error: ") and bad.stderr.count("\n") == 1, bad.stderr
    assert not fresh.parent.exists()  # bad input creates nothing
    absent = CliRunner().invoke(main, ["schedules"], env={"CONVEYOR_STORE": f"sqlite:///{fresh}"})
    assert absent.exit_code == 1 and not fresh.exists()  # a read never creates the store


# -- against a real runner ------------------------------------------------------------------------


@pytest.fixture
def runner(url: str, app_file: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
        proc = subprocess.Popen(
            [exe, "run", app_file, "--store", url, "--no-web", "--processes", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "CONVEYOR_STORE": url},
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_schedules_published_by_a_live_runner(url: str, runner: Callable[[], Any]) -> None:
    runner()
    found = until(lambda: listed(url))  # no APP: what the live runner publishes
    assert set(found) == {"nightly-report", "tick"}
    ticked = until(lambda: listed(url)["tick"]["last_at"])
    assert datetime.fromisoformat(ticked).microsecond == 0  # a whole second: every=1
    # --store before the subcommand works as after it.
    result = CliRunner().invoke(main, ["schedules", "--store", url, "pause", "tick"], env={})
    assert result.exit_code == 0 and result.stdout.strip() == "paused schedule tick", result.output
    assert listed(url)["tick"]["paused"] is True
    assert "paused" in ok(url, "schedules")
    time.sleep(1.1)  # a tick being emitted as the pause landed is the last one
    held = listed(url)["tick"]["last_at"]
    time.sleep(2.5)
    assert listed(url)["tick"]["last_at"] == held  # paused: no tick
    assert ok(url, "schedules", "resume", "tick").strip() == "resumed schedule tick"
    until(lambda: listed(url)["tick"]["last_at"] != held)
