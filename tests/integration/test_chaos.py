"""Chaos: runners process 20,000 messages while one of them is killed with kill -9 about every second
(and, on PostgreSQL, the database server is restarted once in the middle).

At the end every message was handled at least once and none is left or dead; duplicates (at-least-once
delivery of the messages a killed runner had in flight) are counted and reported.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import conveyor
from _shared import pg_exclusive

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import children_of

APP = Path(__file__).with_name("apps") / "chaos_app.py"
MESSAGES = 20_000


def pg_ctl(action: str) -> None:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if (p / "main").is_dir())
    assert shutil.which("pg_ctlcluster") and versions, "restarting PostgreSQL needs pg_ctlcluster"
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", action],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def left(app: conveyor.App) -> int:
    try:
        return sum(s.queued + s.scheduled + s.running for s in app.status().values())
    except Exception:  # the database is restarting
        return -1


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_kill_9_a_runner_every_second(tmp_path: Path, store: str, request: pytest.FixtureRequest) -> None:
    if store == "sqlite":
        url = f"sqlite:///{tmp_path / 'chaos.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    env = dict(os.environ, CONVEYOR_STORE=url, CHAOS_DIR=str(tmp_path), CHAOS_LEASE="1.0")
    app = conveyor.App(url, lease=1.0)
    with pytest.warns(conveyor.UnknownWorkerWarning):  # the app that defines it runs in the subprocesses
        ids = app.emit_many([({"i": i, "sleep": 0.005}, "chaos") for i in range(MESSAGES)])
    supervisor = subprocess.Popen(
        [sys.executable, str(APP), json.dumps({"processes": 2, "concurrency": 20})],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    kills = restarts = 0
    try:
        deadline = time.monotonic() + 150
        while (remaining := left(app)) != 0:
            assert time.monotonic() < deadline, f"{remaining} messages still not done"
            time.sleep(random.uniform(0.7, 1.3))
            kids = children_of(supervisor.pid)
            if kids:  # keep killing while there is work to interrupt
                os.kill(random.choice(kids), signal.SIGKILL)
                kills += 1
            if store == "postgres" and restarts == 0 and kills == 3:
                with pg_exclusive(url):  # no other test session is using the server meanwhile
                    try:
                        pg_ctl("restart")
                    finally:
                        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode:
                            pg_ctl("start")
                restarts += 1
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
    # docs/reliability.md quotes this line: pytest tests/integration/test_chaos.py -s
    print(
        f"chaos {store}: messages={MESSAGES} kills={kills} restarts={restarts} "
        f"lost={len(lost)} duplicates={duplicates}"
    )
    assert kills >= 3 and restarts == (store == "postgres")
    assert lost == set()
    assert app.dead() == [] and app.messages() == []
    app.close()
