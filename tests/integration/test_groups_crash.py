"""Fan-in is crash-safe: two runner processes work through a group of 1,000 messages, one of them is
killed with SIGKILL mid-group (its in-flight messages are rescued when their leases expire), and the
group's ``then`` message is emitted exactly once, naming all 1,000 messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import conveyor

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("store_kind", ["sqlite-file", "postgres"], indirect=True),
]

APP = """
import json, os, time
import conveyor

app = conveyor.App(lease=1.0)
OUT = os.environ["GROUP_OUT"]

@app.worker("part")
def part(event):
    time.sleep(0.01)
    return event

@app.worker("done")
def done(event, msg):
    line = json.dumps({"id": msg.id, "group": msg.group}) + "\\n"
    fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)

if __name__ == "__main__":
    app.run(processes=1, concurrency=8, grace=1.0)
"""


def _start(script: Path, store_url: str, out: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CONVEYOR_STORE=store_url, GROUP_OUT=str(out))
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the supervisor and its runner
    )


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_runner_killed_mid_group_neither_loses_nor_doubles_then(tmp_path: Path, store_url: str) -> None:
    script = tmp_path / "group_app.py"
    script.write_text(APP)
    out = tmp_path / "done.jsonl"
    app = conveyor.App(store_url)
    app.worker("part")(lambda event: event)
    app.worker("done")(lambda event: None)
    ids = app.emit_many([(i, "part") for i in range(1000)], then=({"all": 1000}, "done"))

    def left() -> int:
        return sum(s.queued + s.running + s.scheduled for s in app.status().values() if s.name == "part")

    procs = [_start(script, store_url, out) for _ in range(2)]
    try:
        _wait(lambda: left() <= 700, 60, "a third of the group")
        os.killpg(procs[0].pid, signal.SIGKILL)  # mid-group, with messages in flight
        procs[0].wait(timeout=10)
        assert left() > 0, "the group finished before the kill: the test proved nothing"
        procs.append(_start(script, store_url, out))
        _wait(lambda: out.exists() and out.read_text().strip(), 90, "the then message")
        _wait(lambda: left() == 0 and not app.messages(worker="done"), 30, "everything to finish")
        time.sleep(2.5)  # past a lease and a rescue: nothing may emit it again
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(runs) == 1, runs
    assert runs[0]["group"] == ids
    assert app.messages() == []
    app.close()
