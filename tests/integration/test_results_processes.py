"""Results across processes: a waiter in this process wakes when a ``conveyor run`` process commits the
result (the store's result hints; the hub's fallback look is pushed out of reach so that only a hint
can wake it)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import conveyor
from conveyor import _results

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("store_kind", ["sqlite-file", "postgres"], indirect=True),
]

APP = """
import conveyor

app = conveyor.App()

@app.worker("square", results=600)
def square(event):
    return {"n": event, "square": event * event}

@app.worker("refuse", results=600, max_attempts=1)
def refuse(event):
    raise conveyor.Cancel(f"refused {event}")
"""


@pytest.fixture
def running(tmp_path: Path, store_url: str) -> Iterator[subprocess.Popen[bytes]]:
    script = tmp_path / "results_app.py"
    script.write_text(APP)
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    run = subprocess.Popen(
        [exe, "run", str(script), "--store", store_url, "--no-web", "--processes", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        yield run
    finally:
        run.send_signal(signal.SIGTERM)
        _out, err = run.communicate(timeout=30)
        assert run.returncode == 0, err.decode()


@pytest.fixture
def waiter(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[conveyor.App]:
    monkeypatch.setattr(_results, "SAFETY", 3600.0)  # no fallback look within the test: hints only
    app = conveyor.App(store_url)

    @app.worker("square", results=600)
    def square(event: Any) -> Any:  # defined here too, so that emits know it; run by the other process
        raise AssertionError("runs in the other process")

    @app.worker("refuse", results=600)
    def refuse(event: Any) -> None:
        raise AssertionError("runs in the other process")

    yield app
    app.close()


def test_a_waiter_wakes_when_another_process_commits_the_result(
    running: subprocess.Popen[bytes], waiter: conveyor.App
) -> None:
    first = waiter.emit(3, "square", delay=0.5)  # due later: the waiter surely waits for it
    assert waiter.result(first, timeout=30) == {"n": 3, "square": 9}
    ids = [waiter.emit(i, "square", delay=0.2) for i in range(20)]
    assert [waiter.result(i, timeout=30)["square"] for i in ids] == [i * i for i in range(20)]
    refused = waiter.emit(7, "refuse", delay=0.2)
    with pytest.raises(conveyor.Failed, match="refused 7") as caught:
        waiter.result(refused, timeout=30)
    assert caught.value.outcome == "cancelled"


def test_async_waiters_wake_across_processes_with_one_listener(
    running: subprocess.Popen[bytes], waiter: conveyor.App
) -> None:
    ids = waiter.emit_many([(i, "square", {"delay": 0.5}) for i in range(200)])

    async def main() -> list[Any]:
        return await asyncio.gather(*(waiter.aresult(i, timeout=60) for i in ids))

    got = asyncio.run(main())
    assert [g["square"] for g in got] == [i * i for i in range(200)]
