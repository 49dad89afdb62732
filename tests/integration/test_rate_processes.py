"""A global rate holds across two real runner processes (``App.run``), on both stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import conveyor

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import conveyor

    url, out = sys.argv[1], sys.argv[2]
    app = conveyor.App(url)

    @app.worker("paced", rate="10/s")
    def paced(event):
        with open(out, "a") as f:
            f.write(f"{event['i']} {os.getpid()} {time.time()!r}\\n")

    app.run(processes=2, concurrency=10, grace=5)
    """
)


@pytest.fixture(params=["sqlite-file", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'rates.db'}"


def _starts(out: Path) -> list[tuple[int, int, float]]:
    if not out.exists():
        return []
    rows = [line.split() for line in out.read_text().splitlines() if line.count(" ") == 2]
    return [(int(i), int(pid), float(t)) for i, pid, t in rows]


def test_ten_a_second_across_two_runner_processes(url: str, tmp_path: Path) -> None:
    app = conveyor.App(url)
    app.worker("paced", rate="10/s")(lambda event: None)  # to emit without the unknown-worker warning
    ids = app.emit_many([({"i": i}, "paced") for i in range(60)])
    script, out = tmp_path / "paced_app.py", tmp_path / "starts.txt"
    script.write_text(SCRIPT)
    began = time.time()
    proc = subprocess.Popen([sys.executable, str(script), url, str(out)], start_new_session=True)
    attempts_while_waiting: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while len(_starts(out)) < 60:
            assert proc.poll() is None, "the runner exited"
            assert time.monotonic() < deadline, f"only {len(_starts(out))} of 60 started"
            attempts_while_waiting |= {m.attempt for m in app.messages("paced", state="queued")}
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    starts = _starts(out)
    times = sorted(t for _, _, t in starts)
    assert sorted(i for i, _, _ in starts) == list(range(60))  # each once
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert busiest <= 20, f"{busiest} starts in one second"
    assert 4.0 <= times[-1] - began <= 9.0, times[-1] - began  # a burst of 10, then 50 at 10 a second
    assert attempts_while_waiting == {0}  # messages the rate holds back use no attempt
    assert all(app.message(i) is None for i in ids)
    assert app.status()["paced"].rate == "10/s"
