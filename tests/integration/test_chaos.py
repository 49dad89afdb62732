"""Chaos: runners process 20,000 messages while one of them is killed with kill -9 about every second.

At the end every message was handled at least once and none is left or dead; duplicates (at-least-once
delivery of the messages a killed runner had in flight) are counted and reported.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import conveyor

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import children_of

APP = Path(__file__).with_name("apps") / "chaos_app.py"
MESSAGES = 20_000


@pytest.mark.slow
def test_kill_9_a_runner_every_second(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chaos.db'}"
    env = dict(os.environ, CONVEYOR_STORE=url, CHAOS_DIR=str(tmp_path), CHAOS_LEASE="1.0")
    app = conveyor.App(url, lease=1.0)
    with pytest.warns(conveyor.UnknownWorkerWarning):  # the app that defines it runs in the subprocesses
        ids = app.emit_many([({"i": i, "sleep": 0.005}, "chaos") for i in range(MESSAGES)])
    supervisor = subprocess.Popen(
        [sys.executable, str(APP), json.dumps({"processes": 2, "concurrency": 20})],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    kills = 0
    try:
        deadline = time.monotonic() + 150
        while True:
            left = sum(s.queued + s.scheduled + s.running for s in app.status().values())
            if left == 0:
                break
            assert time.monotonic() < deadline, f"{left} messages still not done"
            time.sleep(random.uniform(0.7, 1.3))
            kids = children_of(supervisor.pid)
            if kids:  # keep killing while there is work to interrupt
                os.kill(random.choice(kids), signal.SIGKILL)
                kills += 1
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in children_of(supervisor.pid):
            os.kill(pid, signal.SIGKILL)
    handled = Counter(int(line.split()[0]) for line in (tmp_path / "handled").read_text().splitlines())
    lost = set(ids) - set(handled)
    duplicates = sum(n - 1 for n in handled.values())
    report = f"chaos sqlite: messages={MESSAGES} kills={kills} lost={len(lost)} duplicates={duplicates}"
    print(report)  # docs/reliability.md quotes it: pytest tests/integration/test_chaos.py -s
    assert kills >= 3
    assert lost == set()
    assert app.dead() == [] and app.messages() == []
    app.close()
