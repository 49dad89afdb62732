"""User code that misbehaves fails its own message, with a trace that says what happened, and never
stops a runner: text the store cannot hold, a handler's own CancelledError, awaitables returned by
plain callables, a broken ``backoff=``, an exception whose ``__str__`` raises, an unrepresentable result."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import conveyor
from conveyor._stores import Settlement, Store


def _drain(app: conveyor.App) -> int:
    return app.drain(timeout=30)


# -- 1. text the store cannot hold -----------------------------------------------------------------------


def test_nul_in_an_error_is_stored_and_the_rest_of_the_batch_settles(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> Any:
        if event["s"] != "ok":
            logging.getLogger("user").warning("log with %s", event["s"])
            raise ValueError("bad " + event["s"])
        return {"echo": event["s"]}

    ids = [app.emit({"s": "ok"}, "w") for _ in range(3)]
    bad = app.emit({"s": "nul\x00here"}, "w")
    ids += [app.emit({"s": "ok"}, "w") for _ in range(3)]
    assert _drain(app) == 7
    dead = app.dead()
    assert [m.id for m in dead] == [bad]
    assert dead[0].last_error == "ValueError: bad nul\\x00here"
    assert app.status()["w"].queued == app.status()["w"].running == 0
    traces = {t.message_id: t for t in app.traces("w")}
    assert set(traces) >= {*ids[-5:], bad}
    failed = traces[bad]
    assert failed.error == "ValueError: bad nul\\x00here"
    assert failed.traceback is not None and "\x00" not in failed.traceback
    assert "nul\\x00here" in failed.traceback
    assert any("log with nul\\x00here" in line for line in failed.logs)


def test_lone_surrogates_in_an_error_are_stored(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> None:
        raise ValueError("half a pair: \ud800 and \udfff")

    mid = app.emit({}, "w")
    assert _drain(app) == 1
    (dead,) = app.dead()
    assert dead.id == mid
    assert dead.last_error == "ValueError: half a pair: \\ud800 and \\udfff"
    assert app.traces("w")[0].error == dead.last_error


class _DataError(Exception):
    """Named as DB-API 2.0 names the errors due to the data processed."""


_DataError.__name__ = "DataError"


class _Refusing:
    """A store that refuses any settle carrying the text ``REFUSE`` (as a store refuses data it cannot
    hold), and counts its settles."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.settles = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _check(self, batch: Settlement) -> None:
        self.settles += 1
        texts = [e for _, _, e in batch.retry] + [e for _, _, e in batch.bury]
        for t in batch.traces:
            texts += [t.error or "", t.traceback or "", t.result or "", *t.logs]
        if any("REFUSE" in text for text in texts):
            raise _DataError("value refused by the store")

    def settle(self, runner: str, batch: Settlement) -> None:
        self._check(batch)
        self._store.settle(runner, batch)

    def settle_and_claim(self, runner: str, batch: Settlement, *args: Any) -> Any:
        self._check(batch)
        both = getattr(self._store, "settle_and_claim", None)
        if both is None:
            self._store.settle(runner, batch)
            return self._store.claim(runner, *args)
        return both(runner, batch, *args)


@pytest.mark.parametrize("outcome", ["error", "result"])
def test_a_settle_the_store_refuses_for_one_message_does_not_hold_back_the_others(
    store: Store, outcome: str
) -> None:
    refusing = _Refusing(store)
    app = conveyor.App(refusing)

    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> Any:
        if event == "bad" and outcome == "error":
            raise ValueError("REFUSE me")
        if event == "bad":
            return "REFUSE me"
        if event == "fails":
            raise RuntimeError("an ordinary failure")
        return event

    innocent = [app.emit(i, "w") for i in range(5)]
    bad = app.emit("bad", "w")
    fails = app.emit("fails", "w")
    innocent += [app.emit(i, "w") for i in range(5, 10)]
    assert _drain(app) == 12
    assert refusing.settles < 40  # never the same batch again and again
    counts = app.status()["w"]
    assert (counts.queued, counts.running) == (0, 0)
    dead = {m.id: m for m in app.dead()}
    assert dead[fails].last_error == "RuntimeError: an ordinary failure"
    traces = {t.message_id: t for t in app.traces("w")}
    assert traces[bad].outcome == "error"
    error = traces[bad].error or ""
    assert "the store refused" in error and "DataError" in error
    assert traces[bad].traceback is None and traces[bad].logs == [] and traces[bad].result is None
    if outcome == "error":  # its last attempt failed: a dead letter saying what happened
        assert set(dead) == {fails, bad}
        assert "the store refused" in (dead[bad].last_error or "")
    else:  # it finished: it stays finished, its trace says the store refused it
        assert set(dead) == {fails}
    assert {t.outcome for i, t in traces.items() if i in innocent} == {"ok"}


# -- 2. a handler's own CancelledError -------------------------------------------------------------------


def test_an_async_handler_raising_cancelled_error_is_a_traced_failure_that_is_retried(
    app: conveyor.App,
) -> None:
    runs: list[int] = []

    @app.worker("w", max_attempts=2, backoff=0)
    async def handle(event: Any, msg: conveyor.Message) -> None:
        runs.append(msg.attempt)
        raise asyncio.CancelledError("my own")

    mid = app.emit({}, "w")
    assert _drain(app) == 2
    assert runs == [1, 2]
    (dead,) = app.dead()
    assert dead.id == mid and dead.last_error == "CancelledError: my own"
    trace = app.traces("w")[0]
    assert trace.outcome == "error" and "CancelledError" in (trace.traceback or "")


def test_an_inner_task_cancelled_error_reaching_the_handler_is_a_failure(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    async def handle(event: Any) -> None:
        inner = asyncio.create_task(asyncio.sleep(10))
        await asyncio.sleep(0)
        inner.cancel()
        await inner  # raises CancelledError in the handler, though nobody cancelled the handler

    app.emit({}, "w")
    assert _drain(app) == 1
    assert (app.dead()[0].last_error or "").startswith("CancelledError")


# -- 3. awaitables returned by plain callables ------------------------------------------------------------


class _AsyncCallable:
    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    async def __call__(self, event: Any) -> Any:
        await asyncio.sleep(0)
        self.seen.append(event)
        return {"seen": event}


def _plain_decorator(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Awaitable[Any]:
        return fn(*args)

    return wrapper


def _hidden_decorator(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    def wrapper(event: Any) -> Any:  # no functools.wraps: nothing says it is async
        return fn(event)

    return wrapper


def test_callables_that_return_awaitables_are_awaited(app: conveyor.App) -> None:
    seen: list[Any] = []
    app.worker("object")(_AsyncCallable(seen))

    async def inner(event: Any) -> Any:
        await asyncio.sleep(0)
        seen.append(event)
        return {"seen": event}

    app.worker("wrapped")(_plain_decorator(inner))
    app.worker("hidden")(_hidden_decorator(inner))
    for name in ("object", "wrapped", "hidden"):
        app.emit(name, name)
    assert _drain(app) == 3
    assert sorted(seen) == ["hidden", "object", "wrapped"]
    for name in ("object", "wrapped", "hidden"):
        (trace,) = app.traces(name)
        assert (trace.outcome, trace.result) == ("ok", {"seen": name})


def test_an_awaitable_returned_by_a_plain_callable_that_fails_is_retried(app: conveyor.App) -> None:
    async def inner(event: Any) -> None:
        raise RuntimeError("inside the coroutine")

    app.worker("hidden", max_attempts=1)(_hidden_decorator(inner))
    app.emit({}, "hidden")
    assert _drain(app) == 1
    assert app.dead()[0].last_error == "RuntimeError: inside the coroutine"


def test_an_awaitable_returned_by_a_plain_callable_has_the_worker_timeout(app: conveyor.App) -> None:
    async def inner(event: Any) -> None:
        await asyncio.sleep(30)

    app.worker("hidden", max_attempts=1, timeout=0.2)(_hidden_decorator(inner))
    app.emit({}, "hidden")
    assert _drain(app) == 1
    (trace,) = app.traces("hidden")
    assert trace.outcome == "timeout"


# -- 4. misbehaving user code around the handler ---------------------------------------------------------


def _raises(attempt: int) -> float:
    raise ZeroDivisionError("backoff broke")


@pytest.mark.parametrize(
    ("backoff", "what"),
    [
        (_raises, "raised ZeroDivisionError: backoff broke"),
        (lambda attempt: "soon", "returned 'soon'"),
        (lambda attempt: -1.0, "returned -1.0"),
        (lambda attempt: float("nan"), "returned nan"),
        (lambda attempt: float("inf"), "returned inf"),
        (lambda attempt: None, "returned None"),
        (lambda attempt: 1e12, "returned 1000000000000.0, not seconds from 0 to 315,576,000"),
    ],
)
def test_a_broken_backoff_fails_the_message_with_a_trace_saying_so(
    app: conveyor.App, backoff: Any, what: str
) -> None:
    @app.worker("w", max_attempts=2, backoff=backoff)
    def handle(event: Any) -> None:
        raise RuntimeError("handler failed")

    app.emit({}, "w")
    _drain(app)  # the retry, if any, is not yet due
    trace = app.traces("w")[0]
    assert trace.outcome == "error"
    assert trace.error is not None
    assert trace.error.startswith("RuntimeError: handler failed")
    assert f"backoff(1) {what}" in trace.error
    (message,) = app.messages("w")
    assert message.state in ("queued", "scheduled") and message.attempt == 1
    assert message.last_error == trace.error


class _BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str broke")


def test_an_exception_whose_str_raises_fails_its_message(app: conveyor.App) -> None:
    @app.worker("sync", max_attempts=1, timeout=60)
    def sync_handler(event: Any) -> None:
        raise _BadStr()

    @app.worker("async", max_attempts=1, timeout=60)
    async def async_handler(event: Any) -> None:
        raise _BadStr()

    app.emit({}, "sync")
    app.emit({}, "async")
    assert _drain(app) == 2
    for m in app.dead():
        assert m.last_error == "_BadStr: <str() raised RuntimeError: str broke>"
    assert "_BadStr" in (app.traces("sync")[0].traceback or "")


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr broke")


def test_a_result_whose_repr_raises_fails_its_message(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> Any:
        return _BadRepr() if event == "bad" else event

    app.emit("bad", "w")
    good = app.emit("good", "w")
    assert _drain(app) == 2
    (dead,) = app.dead()
    assert dead.last_error == (
        "TypeError: the handler returned a _BadRepr that is not JSON and whose repr() raised "
        "RuntimeError: repr broke"
    )
    traces = {t.message_id: t for t in app.traces("w")}
    assert traces[good].result == "good"
    assert traces[dead.id].outcome == "error"
