"""Running messages: ack after the handler, order, retries, dead letters, Incomplete, timeouts."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest

import conveyor


def test_sync_and_async_handlers_get_event_and_message(app: conveyor.App) -> None:
    seen: list[Any] = []

    @app.worker("sync")
    def sync_handler(event: Any) -> Any:
        seen.append(("sync", event))
        return {"doubled": event * 2}

    @app.worker("async")
    async def async_handler(event: Any, msg: conveyor.Message) -> None:
        await asyncio.sleep(0)
        seen.append(("async", event, msg.id, msg.worker, msg.attempt, msg.state))

    a = app.emit(21, "sync")
    b = app.emit("hi", "async")
    assert app.drain() == 2
    assert ("sync", 21) in seen
    assert ("async", "hi", b, "async", 1, "running") in seen
    assert app.messages() == []  # finished messages are deleted
    assert app.traces("sync")[0].result == {"doubled": 42}
    assert app.traces("sync")[0].message_id == a


def test_message_is_acked_only_after_the_handler_returns(app: conveyor.App) -> None:
    during: list[list[conveyor.Message]] = []

    @app.worker("w")
    def handle(event: Any, msg: conveyor.Message) -> None:
        during.append(app.messages(state="running"))
        if event == "fail":
            raise RuntimeError("still here after this")

    ok = app.emit("ok", "w")
    app.emit("fail", "w")
    app.drain()
    assert [m.id for m in during[0]] and ok in {m.id for ms in during for m in ms}
    # the failed one was not deleted: it waits for its retry
    (left,) = app.messages()
    assert left.event == "fail" and left.state == "scheduled" and left.attempt == 1
    assert left.last_error == "RuntimeError: still here after this"


def test_oldest_first(app: conveyor.App) -> None:
    order: list[int] = []

    @app.worker("w", concurrency=1)
    def handle(event: int) -> None:
        order.append(event)

    for i in range(30):
        app.emit(i, "w")
    app.drain()
    assert order == list(range(30))


def test_retries_then_succeeds(app: conveyor.App) -> None:
    attempts: list[int] = []

    @app.worker("flaky", backoff=0, max_attempts=5)
    def handle(event: Any, msg: conveyor.Message) -> str:
        attempts.append(msg.attempt)
        if msg.attempt < 3:
            raise ConnectionError(f"try {msg.attempt}")
        return "done"

    app.emit({}, "flaky")
    assert app.drain() == 3
    assert attempts == [1, 2, 3]
    assert [t.outcome for t in app.traces("flaky")] == ["ok", "error", "error"]
    assert app.traces("flaky")[1].error == "ConnectionError: try 2"
    assert app.messages() == [] and app.dead() == []


def test_backoff_is_exponential_with_jitter(app: conveyor.App) -> None:
    @app.worker("w", backoff=10)
    def handle(event: Any) -> None:
        raise ValueError("no")

    ids = [app.emit(i, "w") for i in range(20)]
    app.drain()
    now = datetime.now(UTC)
    waits = [(m.run_at - now).total_seconds() for m in app.messages(state="scheduled")]
    assert len(waits) == len(ids)
    assert all(7.5 <= w <= 12.0 for w in waits)  # 10 s ±20 %
    assert len({round(w, 3) for w in waits}) > 10  # jittered


def test_dead_letter_after_max_attempts_then_retry_and_discard(app: conveyor.App) -> None:
    fail = True

    @app.worker("w", backoff=0, max_attempts=3)
    def handle(event: Any) -> None:
        if fail:
            raise KeyError(event)

    first = app.emit("a", "w")
    second = app.emit("b", "w")
    assert app.drain() == 6
    dead = app.dead()
    assert [m.id for m in dead] == [first, second]
    assert all(
        m.state == "dead" and m.attempt == 3 and m.last_error == f"KeyError: '{m.event}'" for m in dead
    )
    assert app.status()["w"].dead == 2
    assert app.dead("other") == []

    fail = False
    assert app.retry_dead(id=first) == 1
    (queued,) = app.messages(state="queued")
    assert queued.id == first and queued.attempt == 0
    assert app.drain() == 1
    assert [m.id for m in app.dead()] == [second]
    assert app.discard_dead(worker="w") == 1
    assert app.dead() == [] and app.messages() == []
    assert app.retry_dead() == 0 and app.discard_dead(id=12345) == 0
    with pytest.raises(ValueError, match="not both"):
        app.retry_dead(id=1, worker="w")


def test_incomplete_comes_back_later_without_using_an_attempt(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(incomplete_delay=120)
    runs: list[int] = []

    @app.worker("w", max_attempts=1)
    def handle(event: Any, msg: conveyor.Message) -> None:
        runs.append(msg.attempt)
        raise conveyor.Incomplete("waiting for the upload")

    app.emit("x", "w")
    assert app.drain() == 1
    (m,) = app.messages()
    assert m.state == "scheduled" and m.attempt == 0
    assert 115 <= (m.run_at - datetime.now(UTC)).total_seconds() <= 120
    (trace,) = app.traces("w")
    assert trace.outcome == "incomplete" and trace.error == "Incomplete: waiting for the upload"
    assert app.dead() == []


def test_async_handler_past_timeout_is_cancelled(app: conveyor.App) -> None:
    cancelled: list[bool] = []

    @app.worker("slow", timeout=0.1, max_attempts=1)
    async def handle(event: Any) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    app.emit("x", "slow")
    started = time.monotonic()
    app.drain()
    assert time.monotonic() - started < 5
    assert cancelled == [True]
    (trace,) = app.traces("slow")
    assert trace.outcome == "timeout" and "timeout of 0.1 s" in (trace.error or "")
    (dead,) = app.dead()
    assert "timeout" in (dead.last_error or "")


def test_sync_handler_past_timeout_fails(app: conveyor.App) -> None:
    @app.worker("slow", timeout=0.1, max_attempts=1)
    def handle(event: Any) -> None:
        time.sleep(0.5)

    app.emit("x", "slow")
    app.drain()
    assert app.traces("slow")[0].outcome == "timeout"
    assert len(app.dead()) == 1


def test_a_handlers_own_timeout_error_is_an_ordinary_error(app: conveyor.App) -> None:
    @app.worker("w", timeout=5, max_attempts=1)
    async def handle(event: Any) -> None:
        raise TimeoutError("upstream timed out")

    app.emit("x", "w")
    app.drain()
    trace = app.traces("w")[0]
    assert trace.outcome == "error" and trace.error == "TimeoutError: upstream timed out"


def test_drain_timeout(app: conveyor.App) -> None:
    @app.worker("w")
    async def handle(event: Any) -> None:
        await asyncio.sleep(5)

    app.emit("x", "w")
    with pytest.raises(TimeoutError):
        app.drain(timeout=0.3)
    # the unfinished message went back to the queue with its attempt given back
    (m,) = app.messages()
    assert m.state == "queued" and m.attempt == 0


def test_drain_inside_a_running_event_loop(app: conveyor.App) -> None:
    @app.worker("w")
    def handle(event: Any) -> None:
        pass

    app.emit(1, "w")

    async def main() -> int:
        return app.drain()

    assert asyncio.run(main()) == 1
