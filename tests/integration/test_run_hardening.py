"""``conveyor run`` as a real process: data the store refuses, logs on stderr, delayed messages on time."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import orjson
import pytest

import conveyor

pytestmark = pytest.mark.slow

APP = Path(__file__).with_name("apps") / "hardening_app.py"


class Run:
    """``conveyor run --no-web APP`` with its stderr collected."""

    def __init__(self, url: str, out: Path, *options: str, start: str = "auto") -> None:
        exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
        self.process = subprocess.Popen(
            [exe, "run", str(APP), "--no-web", "--store", url, "--processes", "1", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "HARDEN_DIR": str(out), "CONVEYOR_RUNNER_START": start},
        )
        self.stderr: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._pump, args=(self.process.stderr,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'conveyor.db'}"


@pytest.fixture
def app(url: str) -> Iterator[conveyor.App]:
    a = conveyor.App(url)
    yield a
    a.close()


def emit(app: conveyor.App, event: object, worker: str, **options: object) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        return app.emit(event, worker, **options)  # type: ignore[arg-type]


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def settled(app: conveyor.App, worker: str) -> bool:
    s = app.status().get(worker)
    return s is not None and s.queued + s.scheduled + s.running == 0


def test_nul_in_an_error_under_conveyor_run(app: conveyor.App, url: str, tmp_path: Path) -> None:
    run = Run(url, tmp_path)
    try:
        innocent = [emit(app, {"s": "ok"}, "nul") for _ in range(20)]
        bad = emit(app, {"s": "x\x00y"}, "nul")
        innocent += [emit(app, {"s": "ok"}, "nul") for _ in range(20)]
        wait_until(lambda: settled(app, "nul"), 30, "every message settled")
        dead = app.dead()
        assert [m.id for m in dead] == [bad]
        assert dead[0].last_error == "ValueError: bad x\\x00y"
        later = emit(app, {"s": "ok"}, "nul")  # the runner still claims
        wait_until(lambda: settled(app, "nul"), 30, "a later message settled")
        assert later not in {m.id for m in app.messages()}
    finally:
        run.stop()
    assert run.process.returncode == 0, "".join(run.stderr)


@pytest.mark.parametrize(("fmt", "start"), [("text", "fork"), ("json", "fork"), ("json", "spawn")])
def test_failed_messages_are_logged_to_stderr_one_line_each(tmp_path: Path, fmt: str, start: str) -> None:
    url = f"sqlite:///{tmp_path / 'conveyor.db'}"
    app = conveyor.App(url)
    run = Run(url, tmp_path, "--log-format", fmt, start=start)
    try:
        mid = emit(app, "e1", "fails")
        wait_until(lambda: len(app.dead()) == 1, 30, "a dead letter")
        wait_until(lambda: sum("boom" in line for line in run.stderr) >= 2, 10, "two failure lines")
    finally:
        run.stop()
        app.close()
    failures = [line for line in run.stderr if "boom" in line]
    assert len(failures) == 2, run.stderr
    if fmt == "json":
        records = [orjson.loads(line) for line in failures]
        assert [(r["worker"], r["message_id"], r["attempt"]) for r in records] == [
            ("fails", mid, 1),
            ("fails", mid, 2),
        ]
        assert records[0]["level"] == "WARNING" and records[1]["level"] == "ERROR"
        assert records[1]["error"] == "RuntimeError: boom e1 | second line"
        assert all(orjson.loads(line) for line in run.stderr if line.startswith("{"))
    else:
        assert f"message {mid} (fails) failed on attempt 1 of 2, retried in" in failures[0]
        assert f"message {mid} (fails) failed on attempt 2 of 2, now a dead letter" in failures[1]
        assert failures[1].rstrip().endswith("RuntimeError: boom e1 | second line")


def test_log_level_option_filters_stderr_and_info_logs_are_captured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'conveyor.db'}"
    app = conveyor.App(url)
    run = Run(url, tmp_path, "--log-level", "ERROR")
    try:
        emit(app, "e1", "fails")
        emit(app, "hello", "chatty")
        wait_until(lambda: len(app.dead()) == 1 and settled(app, "chatty"), 30, "both settled")
        wait_until(lambda: any("dead letter" in line for line in run.stderr), 10, "the dead letter line")
        (trace,) = app.traces("chatty")
        assert trace.logs == ["INFO user.chatty: info line hello"]
    finally:
        run.stop()
        app.close()
    assert not any("retried in" in line for line in run.stderr), run.stderr  # a WARNING
    assert not any("info line" in line for line in run.stderr), run.stderr


def test_delayed_messages_start_on_time_under_conveyor_run(
    app: conveyor.App, url: str, tmp_path: Path
) -> None:
    run = Run(url, tmp_path)
    try:
        emit(app, "warm-up", "delayed")
        wait_until((tmp_path / "starts").exists, 30, "the runner to start")
        time.sleep(0.5)  # idle
        due: dict[int, float] = {}
        for i in range(8):
            at = time.time() + 0.2
            due[emit(app, i, "delayed", delay=0.2)] = at
            time.sleep(0.35)
        wait_until(lambda: len((tmp_path / "starts").read_text().splitlines()) == 9, 30, "all started")
    finally:
        run.stop()
    starts = {
        int(m): float(t) for m, t in (line.split() for line in (tmp_path / "starts").read_text().splitlines())
    }
    late = [starts[mid] - at for mid, at in due.items()]
    assert min(late) > -0.05, late  # never early (beyond clock jitter)
    assert statistics.median(late) < 0.25 and max(late) < 0.5, late


def test_retirements_are_logged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'conveyor.db'}"
    app = conveyor.App(url)
    run = Run(url, tmp_path, "--max-tasks-per-child", "2")
    try:
        for i in range(3):
            emit(app, i, "noop")
        wait_until(lambda: settled(app, "noop"), 30, "the messages settled")
        wait_until(lambda: any("retired" in line for line in run.stderr), 10, "the retirement logged")
    finally:
        run.stop()
        app.close()
    assert any("retiring (max-tasks)" in line for line in run.stderr), run.stderr


def test_a_busy_runner_with_free_slots_starts_delayed_messages_on_time(
    app: conveyor.App, url: str, tmp_path: Path
) -> None:
    run = Run(url, tmp_path)
    try:
        emit(app, "warm-up", "delayed")
        wait_until((tmp_path / "starts").exists, 30, "the runner to start")
        emit(app, 4, "slow")  # holds one slot of the only runner process all along
        wait_until(lambda: app.status()["slow"].running == 1, 30, "the slow message to start")
        due: dict[int, float] = {}
        for i in range(6):
            at = time.time() + 0.2
            due[emit(app, i, "delayed", delay=0.2)] = at
            time.sleep(0.4)
        wait_until(lambda: len((tmp_path / "starts").read_text().splitlines()) == 7, 30, "all started")
    finally:
        run.stop()
    lines = (tmp_path / "starts").read_text().splitlines()
    starts = {int(m): float(t) for m, t in (line.split() for line in lines)}
    late = [starts[mid] - at for mid, at in due.items()]
    assert max(late) < 0.5, late


def test_a_backoff_under_a_second_is_honoured_under_conveyor_run(
    app: conveyor.App, url: str, tmp_path: Path
) -> None:
    run = Run(url, tmp_path)
    try:
        emit(app, {}, "quick-retry")
        retries = tmp_path / "retries"
        wait_until(lambda: retries.exists() and len(retries.read_text().splitlines()) == 2, 30, "the retry")
    finally:
        run.stop()
    (first, t1), (second, t2) = (line.split() for line in retries.read_text().splitlines())
    assert (first, second) == ("1", "2")
    assert 0.15 < float(t2) - float(t1) < 0.6


SCRIPT = """
import logging, sys
import conveyor

app = conveyor.App(sys.argv[1])

@app.worker("w", max_attempts=1)
def handle(event):
    logging.getLogger("user").info("info from the handler")
    raise RuntimeError("it failed")

app.emit({}, "w")
app.drain(timeout=30)
print(app.traces("w")[0].logs)
"""


def test_drain_without_logging_configured_captures_info_and_keeps_the_last_resort(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'conveyor.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.strip() == "['INFO user: info from the handler']"
    # the runner's own warning reaches stderr as Python's last resort prints it; the INFO record does not
    assert "failed on attempt 1 of 1, now a dead letter: RuntimeError: it failed" in proc.stderr
    assert "info from the handler" not in proc.stderr
