"""Handler control under ``conveyor run`` (a real supervisor and runner process): Incomplete(delay),
Retry(delay) and Cancel settle as they do in ``drain``, and none of them is logged as a warning or error."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

import conveyor

pytestmark = pytest.mark.slow

APP = """
import conveyor

app = conveyor.App()

@app.worker("snooze")
def snooze(event, msg):
    if msg.snoozes == 0:
        raise conveyor.Incomplete("not yet", delay=0.2)
    return {"snoozes": msg.snoozes, "attempt": msg.attempt}

@app.worker("retry", max_attempts=3, backoff=3600)
async def retry(event, msg):
    if msg.attempt == 1:
        raise conveyor.Retry(delay=0.2)
    return {"attempt": msg.attempt}

@app.worker("cancel")
def cancel(event):
    raise conveyor.Cancel("order was deleted")
"""


def test_conveyor_run_settles_incomplete_retry_and_cancel(tmp_path: Path) -> None:
    script = tmp_path / "control_app.py"
    script.write_text(APP)
    store = f"sqlite:///{tmp_path / 'conveyor.db'}"
    app = conveyor.App(store)
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    run = subprocess.Popen(
        [exe, "run", str(script), "--store", store, "--no-web", "--processes", "1", "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        with pytest.warns(conveyor.UnknownWorkerWarning):  # this app defines none: the script does
            ids = {name: app.emit({"for": name}, name) for name in ("snooze", "retry", "cancel")}
        deadline = time.monotonic() + 20
        while (
            app.messages(state="queued") or app.messages(state="scheduled") or app.messages(state="running")
        ):
            assert time.monotonic() < deadline, app.messages()
            time.sleep(0.05)
    finally:
        run.send_signal(signal.SIGTERM)
        _out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err.decode()

    ok, snoozed = app.traces("snooze")
    assert (snoozed.outcome, snoozed.attempt) == ("incomplete", 1)
    assert (ok.outcome, ok.result) == ("ok", {"snoozes": 1, "attempt": 1})
    assert (ok.started_at - snoozed.finished_at).total_seconds() >= 0.15

    ok, retried = app.traces("retry")
    assert (retried.outcome, retried.attempt, retried.error) == ("retry", 1, "Retry")
    assert (ok.outcome, ok.result) == ("ok", {"attempt": 2})
    assert 0.15 <= (ok.started_at - retried.finished_at).total_seconds() < 5

    (dead,) = app.dead()
    assert (dead.id, dead.worker, dead.attempt, dead.last_error) == (
        ids["cancel"],
        "cancel",
        1,
        "order was deleted",
    )
    (cancelled,) = app.traces("cancel")
    assert (cancelled.outcome, cancelled.error) == ("cancelled", "order was deleted")

    records = [orjson.loads(line) for line in err.splitlines() if line.startswith(b"{")]
    about = [r for r in records if r.get("message_id") in ids.values()]
    assert [r["level"] for r in about] == ["INFO"], about  # the cancel's one line, never a warning
    assert not [r for r in records if r["level"] in ("WARNING", "ERROR", "CRITICAL")], records
    app.close()
