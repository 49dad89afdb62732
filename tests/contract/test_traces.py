"""Traces: the last N per worker newest first, failures kept apart, with everything needed to debug."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

import conveyor
from conveyor._stores import NewMessage, Settlement, Store, TraceRecord


def test_trace_has_event_result_logs_emits_and_times(app: conveyor.App) -> None:
    @app.worker("w")
    def handle(event: Any) -> Any:
        logging.getLogger("myapp").warning("charging %s", event["user"])
        child = conveyor.emit({"receipt": event["user"]}, "child")
        return {"child": child}

    @app.worker("child")
    def child(event: Any) -> None:
        pass

    mid = app.emit({"user": "ada"}, "w")
    app.drain()
    (trace,) = app.traces("w")
    assert trace.message_id == mid and trace.worker == "w" and trace.outcome == "ok"
    assert trace.event == {"user": "ada"}
    assert trace.result == {"child": trace.emitted[0]}
    assert trace.logs == ["WARNING myapp: charging ada"]
    assert trace.error is None and trace.traceback is None and trace.attempt == 1
    assert trace.enqueued_at <= trace.started_at <= trace.finished_at
    assert trace.wait >= 0 and trace.duration >= 0


def test_failure_trace_has_error_and_traceback(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> None:
        raise ValueError(f"bad input {event}")

    app.emit(7, "w")
    app.drain()
    (trace,) = app.traces("w")
    assert trace.outcome == "error" and trace.error == "ValueError: bad input 7"
    assert trace.traceback is not None and "raise ValueError" in trace.traceback
    assert trace.result is None


def test_last_n_newest_first_and_failures_kept_apart(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w", traces=3, max_attempts=1)
    def handle(event: int) -> int:
        if event < 2:
            raise RuntimeError(f"fail {event}")
        return event

    for i in range(2):
        app.emit(i, "w")
    app.drain()
    for i in range(2, 40):
        app.emit(i, "w")
        if i % 7 == 0:
            app.drain()  # several flushes, so retention works across batches too
    app.drain()
    traces = app.traces("w")
    assert [t.event for t in traces] == [39, 38, 37, 1, 0]  # newest 3, then the 2 failures kept apart
    assert [t.outcome for t in traces] == ["ok", "ok", "ok", "error", "error"]


def test_traces_zero_keeps_none(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w", traces=0)
    def handle(event: int) -> None:
        pass

    app.emit(1, "w")
    app.drain()
    assert app.traces("w") == []


def test_captured_logs_belong_to_their_own_message(app: conveyor.App) -> None:
    @app.worker("w")
    async def handle(event: int) -> None:
        logging.getLogger("myapp").error("message %d", event)

    for i in range(20):
        app.emit(i, "w")
    app.drain()
    for trace in app.traces("w"):
        assert trace.logs == [f"ERROR myapp: message {trace.event}"]


def test_a_settle_sent_again_after_a_lost_reply_writes_each_trace_once(store: Store) -> None:
    """A runner whose settle committed but whose answer never arrived (the connection broke at that
    instant) sends the same batch again: the messages are already settled, and no trace is doubled."""
    (mid,) = store.enqueue([NewMessage("w", b'{"i": 1}')])
    (claimed,) = store.claim("r1", {"w": None}, 10, 30.0)
    trace = TraceRecord(
        message_id=mid,
        worker="w",
        outcome="ok",
        event=claimed.event,
        result=None,
        error=None,
        traceback=None,
        logs=[],
        emitted=[],
        attempt=claimed.attempt,
        enqueued_at=claimed.enqueued_at,
        started_at=claimed.started_at,
        finished_at=claimed.started_at + 0.001,
        keep=10,
    )
    for _ in range(2):
        store.settle("r1", Settlement(complete=[mid], traces=[trace]))
    assert [t.message_id for t in store.traces("w")] == [mid]
    assert store.messages(None, None, 10) == []


def test_an_expired_lease_leaves_a_lost_trace(store: Store) -> None:
    """A runner that died mid-run cannot write its trace: the rescue writes one for that attempt."""
    (mid,) = store.enqueue([NewMessage("w", b'{"i": 7}')])
    (claimed,) = store.claim("runner-a", {"w": None}, 10, 0.05)
    time.sleep(0.2)
    assert store.rescue() == 1
    (lost,) = store.traces("w")
    assert (lost.message_id, lost.worker, lost.event, lost.outcome, lost.attempt) == (
        mid,
        "w",
        {"i": 7},
        "lost",
        1,
    )
    assert lost.error is not None and "lease expired" in lost.error and "runner-a" in lost.error
    assert (lost.result, lost.traceback, lost.logs, lost.emitted) == (None, None, [], [])
    assert lost.started_at.timestamp() == pytest.approx(claimed.started_at, abs=1e-3)
    assert lost.enqueued_at.timestamp() == pytest.approx(claimed.enqueued_at, abs=1e-3)
    assert lost.started_at <= lost.finished_at
    assert store.rescue() == 0 and len(store.traces("w")) == 1  # written once
    (again,) = store.claim("runner-b", {"w": None}, 10, 30.0)
    assert again.attempt == 2


def test_a_late_trace_from_a_stalled_runner_is_kept_beside_the_lost_one(store: Store) -> None:
    (mid,) = store.enqueue([NewMessage("w", b"1")])
    (claimed,) = store.claim("runner-a", {"w": None}, 10, 0.05)
    time.sleep(0.2)
    assert store.rescue() == 1
    late = TraceRecord(
        message_id=mid,
        worker="w",
        outcome="ok",
        event=claimed.event,
        result="2",
        error=None,
        traceback=None,
        logs=[],
        emitted=[],
        attempt=claimed.attempt,
        enqueued_at=claimed.enqueued_at,
        started_at=claimed.started_at,
        finished_at=claimed.started_at + 1,
        keep=10,
    )
    store.settle("runner-a", Settlement(complete=[mid], traces=[late]))
    assert [t.outcome for t in store.traces("w")] == ["ok", "lost"]


def test_the_app_shows_a_crashed_attempt_as_lost(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(lease=0.05)
    app.worker("w")(lambda event: event)
    mid = app.emit("x", "w")
    app.store.claim("gone", {"w": None}, 10, 0.05)  # a runner that claims and dies
    time.sleep(0.2)
    assert app.drain() == 1  # rescues, then runs it again
    assert [(t.message_id, t.outcome, t.attempt) for t in app.traces("w")] == [
        (mid, "ok", 2),
        (mid, "lost", 1),
    ]
