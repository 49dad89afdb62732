"""Poison pills end as dead letters after max_attempts while runners keep serving other workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import conveyor

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import children_of

APP = Path(__file__).with_name("apps") / "chaos_app.py"


def emit(app: conveyor.App, items: list[tuple[Any, str]]) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        return app.emit_many(items)


def wait_dead(app: conveyor.App, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(app.dead()) < count or sum(s.queued + s.running for s in app.status().values()):
        assert time.monotonic() < deadline, (app.status(), app.dead())
        time.sleep(0.2)


@pytest.mark.slow
def test_poison_pills_die_and_others_keep_running(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'poison.db'}"
    env = dict(os.environ, CONVEYOR_STORE=url, CHAOS_DIR=str(tmp_path), CHAOS_LEASE="1.0")
    app = conveyor.App(url, lease=1.0)
    supervisor = subprocess.Popen(
        [sys.executable, str(APP), json.dumps({"processes": 2, "concurrency": 10})],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        # a pill that raises and one that never returns, among ordinary messages
        ids = emit(app, [({"pill": 1}, "raises"), ({"pill": 2}, "hangs")])
        ids += emit(app, [({"i": i, "sleep": 0.01}, "chaos") for i in range(1000)])
        wait_dead(app, 2)
        dead = {m.worker: m for m in app.dead()}
        assert dead["raises"].last_error == "RuntimeError: poison: always raises"
        assert "timeout" in (dead["hangs"].last_error or "")
        # a pill that kills its runner process, among ordinary messages
        ids += emit(app, [({"pill": 3}, "exits")])
        ids += emit(app, [({"i": i, "sleep": 0.01}, "chaos") for i in range(1000, 2000)])
        wait_dead(app, 3)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in children_of(supervisor.pid):
            os.kill(pid, signal.SIGKILL)
    dead = {m.worker: m for m in app.dead()}
    assert set(dead) == {"raises", "hangs", "exits"}
    assert all(m.attempt == 2 for m in dead.values()), dead
    assert "lease expired" in (dead["exits"].last_error or "")
    handled = {int(line.split()[0]) for line in (tmp_path / "handled").read_text().splitlines()}
    assert handled == set(ids[2:1002]) | set(ids[1003:])  # every ordinary message was served
    app.close()
