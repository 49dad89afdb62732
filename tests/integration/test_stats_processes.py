"""Runners and stats across processes: a ``conveyor run`` of two runner processes records itself (host,
pid, slots) and the stats of what it ran, which this process reads; ``conveyor top --json`` streams
snapshots of them; ``conveyor top`` in a terminal quits on ``q``."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import conveyor

pytestmark = pytest.mark.slow

APP = """
import conveyor

app = conveyor.App(lease=0.9)  # a heartbeat every 0.3 s

@app.worker("ok")
def ok(event):
    pass

@app.worker("bad", max_attempts=2, backoff=0)
def bad(event):
    raise ValueError(f"bad {event}")
"""

EXE = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(params=["sqlite-file", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'stats.db'}"


@pytest.fixture
def running(tmp_path: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    script = tmp_path / "stats_app.py"
    script.write_text(APP)
    run = subprocess.Popen(
        [EXE, "run", str(script), "--store", url, "--no-web", "--processes", "2", "--concurrency", "8"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        yield run
    finally:
        run.send_signal(signal.SIGTERM)
        _out, err = run.communicate(timeout=30)
        assert run.returncode == 0, err.decode()


def test_runner_processes_record_themselves_and_their_stats(
    running: subprocess.Popen[bytes], url: str
) -> None:
    app = conveyor.App(url)
    for name in ("ok", "bad"):  # known here too (the emits do not warn); run by the runner processes
        app.worker(name)(lambda event: None)
    app.emit_many([(i, "ok") for i in range(30)] + [(i, "bad") for i in range(3)])

    def done() -> dict[str, tuple[int, int, int, int]]:
        got = {b.worker: (b.processed, b.failed, b.retried, b.dead) for b in app.stats() if b.worker}
        return got if got.get("ok", (0,))[0] == 30 and got.get("bad", (0,))[0] == 6 else {}

    counts = until(done)  # within the runners' next flush (they settle stats every 5 s)
    assert counts == {"ok": (30, 0, 0, 0), "bad": (6, 6, 3, 3)}
    runners = until(
        lambda: [r for r in app.runners() if r.state == "live"] if len(app.runners()) == 2 else []
    )
    assert len(runners) == 2
    assert {r.pid for r in runners}.isdisjoint({running.pid, os.getpid()})  # its runner processes
    assert {(r.host, r.slots, tuple(r.workers)) for r in runners} == {
        (socket.gethostname(), 8, ("bad", "ok"))
    }

    top = subprocess.Popen(
        [EXE, "top", "--store", url, "--json", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert top.stdout is not None
        snapshots = [orjson.loads(top.stdout.readline()) for _ in range(2)]
    finally:
        top.send_signal(signal.SIGTERM)
        _out, err = top.communicate(timeout=30)
    assert top.returncode == 0, err.decode()
    first, second = snapshots
    assert second["at"] > first["at"]
    workers = {w["name"]: w for w in second["workers"]}
    assert workers["ok"]["processed_per_min"] > 0 and workers["ok"]["dead"] == 0
    assert workers["bad"]["dead"] == 3 and workers["bad"]["failed_per_min"] > 0
    assert sorted(r["pid"] for r in second["runners"]) == sorted(r.pid for r in runners)
    assert {f["worker"] for f in second["failures"]} == {"bad"}
    assert second["failures"][0]["error"].startswith("ValueError: bad ")
    app.close()


def test_top_in_a_terminal_quits_on_q(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'top.db'}"
    app = conveyor.App(url)
    app.worker("w")(lambda event: None)
    app.emit_many([({}, "w")] * 3)
    app.drain()
    app.close()
    pid, fd = pty.fork()
    if pid == 0:  # the child: top on a terminal of 40 rows and 160 columns
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        env = {**os.environ, "COLUMNS": "160", "LINES": "40"}
        os.execve(EXE, [EXE, "top", "--store", url, "--interval", "0.2"], env)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"q to quit" not in seen or b"done/min" not in seen:  # its first frame is on screen
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 65536)
        os.write(fd, b"q")
        deadline = time.monotonic() + 15
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "top did not quit on q"
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):  # the terminal closes as top exits
                    os.read(fd, 65536)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
