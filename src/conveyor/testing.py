"""Testing your workers with pytest (docs/fitting-in.md#testing-your-workers).

Installed with Conveyor and registered through the ``pytest11`` entry point, this plugin adds one
fixture and no other behaviour (nothing runs unless a test asks for the fixture):

- ``conveyor_app``: a ``conveyor.App`` on a fresh SQLite file of the test's own, closed afterwards. With
  ``conveyor_app = "myproject.tasks:app"`` in the pytest configuration it is that app instead, pointed at
  the fresh store for the test and back at its own store after it.

and two helpers, for any app:

- ``drain(app)``: run every message that is due, in this process, and raise ``HandlerError`` for the
  first handler that raised (``raise_errors=False``: just return how many ran);
- ``emitted(app, worker)``: the events waiting for ``worker`` (queued or scheduled), oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._app import App
from ._loader import load_app
from ._message import Trace

__all__ = ["HandlerError", "conveyor_app", "drain", "emitted"]

_FAILED = ("error", "timeout", "lost")


class HandlerError(AssertionError):
    """A handler raised (or timed out) during ``drain``: the worker, the message and its traceback."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        detail = f"\n{trace.traceback.rstrip()}" if trace.traceback else ""
        super().__init__(
            f"worker {trace.worker!r}, message {trace.message_id} (attempt {trace.attempt}) failed: "
            f"{trace.error or trace.outcome}{detail}"
        )


def drain(app: App, *, raise_errors: bool = True, timeout: float | None = 60.0) -> int:
    """``app.drain(timeout)``, then raise ``HandlerError`` for the first run of this drain that failed
    (kept in the worker's traces; a worker with ``traces=0`` keeps none to report)."""
    workers = app.registry.names()
    seen = {(t.message_id, t.attempt) for name in workers for t in app.traces(name)} if raise_errors else None
    count = app.drain(timeout)
    if seen is not None:
        failed = [
            t
            for name in workers
            for t in app.traces(name)
            if t.outcome in _FAILED and (t.message_id, t.attempt) not in seen
        ]
        if failed:
            raise HandlerError(min(failed, key=lambda t: (t.finished_at, t.message_id)))
    return count


def emitted(app: App, worker: str) -> list[Any]:
    """The events of the messages waiting for ``worker`` (queued or scheduled), oldest first."""
    return [m.event for m in app.messages(worker, limit=10_000) if m.state in ("queued", "scheduled")]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "conveyor_app",
        "module:attr of the conveyor.App the conveyor_app fixture gives, on a fresh store per test "
        "(default: a new, empty App)",
        default="",
    )


@pytest.fixture
def conveyor_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """A ``conveyor.App`` on a fresh SQLite store of this test's own (see the module's docstring)."""
    url = f"sqlite:///{tmp_path / 'conveyor-test.db'}"
    ref = str(request.config.getini("conveyor_app")).strip()
    if not ref:
        app = App(url)
        yield app
        app.close()
        return
    app = load_app(ref)
    own = app._url  # None: $CONVEYOR_STORE, else conveyor.db, read when it is next opened
    app.use_store(url)
    try:
        yield app
    finally:
        app.close()
        app._url = own
