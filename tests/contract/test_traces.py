"""Traces: the last N per worker newest first, failures kept apart, with everything needed to debug."""

from __future__ import annotations

import logging
from typing import Any

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
