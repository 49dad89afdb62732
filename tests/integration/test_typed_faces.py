"""Typed events across processes and faces: ``conveyor run`` (a real runner process) gives its handler
the model for events emitted by a process that does not know the worker, and buries at once the one that
does not fit; the HTTP API of an app with a typed worker answers a mismatch with 400; the example runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pydantic
import pytest

import conveyor
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")  # starlette prefers httpx2; either works
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

ROOT = Path(__file__).resolve().parents[2]

APP = """
from __future__ import annotations

import dataclasses

import pydantic

import conveyor

app = conveyor.App()


class Size(pydantic.BaseModel):
    width: int
    height: int


@dataclasses.dataclass
class Order:
    id: int
    items: list[str]


@app.worker("resize", max_attempts=5)
def resize(event: Size, msg: conveyor.Message) -> dict:
    return {"type": type(event).__name__, "area": event.width * event.height, "attempt": msg.attempt}


@app.worker("order", max_attempts=5)
async def order(event: Order) -> str:
    return f"{type(event).__name__} {event.id}: {len(event.items)} items"
"""


@pytest.mark.slow
def test_conveyor_run_loads_events_from_other_processes_and_buries_those_that_do_not_fit(
    tmp_path: Path,
) -> None:
    script = tmp_path / "typed_app.py"
    script.write_text(APP)
    store = f"sqlite:///{tmp_path / 'conveyor.db'}"
    app = conveyor.App(store)  # defines no worker: its emits are encoded, not checked
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    run = subprocess.Popen(
        [exe, "run", str(script), "--store", store, "--no-web", "--processes", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
            fits = app.emit({"width": 3, "height": "4"}, "resize")
            stale = app.emit({"width": 3}, "resize")
            order = app.emit({"id": 7, "items": ["a", "b"]}, "order")
            bad_order = app.emit({"id": "7", "items": []}, "order")
        deadline = time.monotonic() + 30
        while any(app.messages(state=s) for s in ("queued", "scheduled", "running")):
            assert time.monotonic() < deadline, app.messages()
            time.sleep(0.05)
    finally:
        run.send_signal(signal.SIGTERM)
        _out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err.decode()
    results = {t.message_id: t for w in ("resize", "order") for t in app.traces(w)}
    assert results[fits].result == {"type": "Size", "area": 12, "attempt": 1}
    assert results[order].result == "Order 7: 2 items"
    dead = {m.id: m for m in app.dead()}
    assert set(dead) == {stale, bad_order}
    assert dead[stale].attempt == dead[bad_order].attempt == 1  # a dead letter at once, not retried
    assert dead[stale].last_error == (
        "ValueError: event for worker 'resize' does not fit Size: height: Field required"
    )
    assert dead[bad_order].last_error == (
        "ValueError: event for worker 'order' does not fit Order: id: expected int, got str"
    )
    assert results[stale].outcome == "error" and results[stale].error == dead[stale].last_error
    app.close()


class Size(pydantic.BaseModel):
    width: int
    height: int


def test_http_emit_to_a_typed_worker_answers_a_mismatch_with_400(tmp_path: Path) -> None:
    app = conveyor.App(f"sqlite:///{tmp_path / 'c.db'}")

    @app.worker("resize")
    def resize(event: Size) -> None:
        pass

    client = TestClient(
        create_app(app, token=""),
        base_url="http://127.0.0.1",
        client=("127.0.0.1", 50000),
        headers={"X-Conveyor-Request": "1"},
    )
    with client:
        bad = client.post("/api/emit/resize", json={"width": "wide", "height": 2})
        good = client.post("/api/emit/resize", json={"width": 2, "height": 2})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "event for worker 'resize' does not fit Size: width: Input should be a valid integer, "
        "unable to parse string as an integer"
    }
    assert good.status_code == 202
    assert [m.event for m in app.messages()] == [{"width": 2, "height": 2}]
    app.close()


def test_the_typed_events_example_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "typed_events.py"), f"sqlite:///{tmp_path / 't.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "does not fit ResizeEvent: size.width: Input should be a valid integer" in out
    assert "thumbnail of cat.png: 3072 pixels" in out
    assert "thumbnail of dog.png: 1024 pixels" in out
    assert "processed 4 messages" in out
