"""Results (docs/results.md): ``results=`` keeps outcomes; ``result``/``aresult`` wait for them, woken by
the store's result hints; expired results are pruned by the runners. Every store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import conveyor
from conveyor._runtime._results import PRUNE_BATCH, ResultPruner
from conveyor._stores import NewMessage, ResultRecord, Settlement, Store

AppFactory = Callable[..., conveyor.App]


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


@pytest.fixture
def drain_later(app: conveyor.App) -> Iterator[Any]:
    """``drain_later(after)``: drain in a thread ``after`` seconds from now (joined at the end)."""
    threads: list[threading.Thread] = []

    def start(after: float = 0.2) -> None:
        def go() -> None:
            time.sleep(after)
            app.drain(timeout=30)

        thread = threading.Thread(target=go)
        thread.start()
        threads.append(thread)

    yield start
    for thread in threads:
        thread.join(timeout=60)


def test_the_return_value_is_kept_as_json(app: conveyor.App) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> Any:
        return event["give"]

    values: list[Any] = [{"a": [1, 2.5, None, True]}, [1, "two"], "text", 7, None]
    ids = [app.emit({"give": v}, "w") for v in values]
    assert app.drain() == len(values)
    assert [app.result(i, timeout=0) for i in ids] == values
    assert [app.result(i) for i in ids] == values  # kept: asking again gives it again


def test_a_value_that_is_not_json_is_kept_as_its_repr_and_says_so(app: conveyor.App) -> None:
    @app.worker("w", results=60, traces=0)
    def w(event: Any) -> Any:
        return Opaque()

    mid = app.emit(None, "w")
    app.drain()
    assert app.result(mid) == "<Opaque thing>"
    finished = app.results_hub.wait(mid, 5)
    assert finished is not None
    assert (finished.outcome, finished.value, finished.is_repr) == ("ok", "<Opaque thing>", True)


def test_a_dead_letter_raises_failed_with_the_last_error(app: conveyor.App) -> None:
    @app.worker("w", results=60, max_attempts=2, backoff=0)
    def w(event: Any) -> None:
        raise ValueError(f"bad {event}")

    mid = app.emit(1, "w")
    while app.message(mid) is not None and app.message(mid).state != "dead":  # type: ignore[union-attr]
        app.drain()
    with pytest.raises(conveyor.Failed) as caught:
        app.result(mid, timeout=5)
    assert caught.value.message_id == mid
    assert caught.value.error == "ValueError: bad 1"
    assert caught.value.outcome == "dead"
    assert isinstance(caught.value, Exception)


def test_a_cancelled_message_raises_failed_with_the_reason(app: conveyor.App) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> None:
        raise conveyor.Cancel("order was deleted")

    mid = app.emit(None, "w")
    app.drain()
    with pytest.raises(conveyor.Failed, match="was cancelled") as caught:
        app.result(mid)
    assert (caught.value.message_id, caught.value.outcome) == (mid, "cancelled")
    assert caught.value.error is not None and "order was deleted" in caught.value.error


def test_a_retry_or_an_incomplete_keeps_nothing_until_the_message_finished(app: conveyor.App) -> None:
    @app.worker("w", results=60, max_attempts=3)
    def w(event: Any, msg: conveyor.Message) -> Any:
        if msg.attempt == 1:
            raise conveyor.Retry(delay=3600)
        return "done"

    mid = app.emit(None, "w")
    app.drain()
    with pytest.raises(TimeoutError):
        app.result(mid, timeout=0.1)  # alive: scheduled for its retry
    assert app.store.results([mid])[0].outcome is None


def test_a_worker_without_results_writes_nothing_and_its_result_is_a_lookup_error(
    app: conveyor.App, store: Store
) -> None:
    @app.worker("plain")
    def plain(event: Any) -> int:
        return 1

    @app.worker("doomed", max_attempts=1)
    def doomed(event: Any) -> None:
        raise ValueError("no")

    done, dead = app.emit(None, "plain"), app.emit(None, "doomed")
    app.drain()
    assert [r.outcome for r in store.results([done, dead])] == [None, None]
    with pytest.raises(LookupError, match=f"message {done}: no such message and no kept result"):
        app.result(done, timeout=5)
    with pytest.raises(conveyor.Failed) as caught:  # a dead letter is still there to say so
        app.result(dead, timeout=5)
    assert caught.value.error == "ValueError: no"


def test_an_unknown_id_is_a_lookup_error_at_once(app: conveyor.App) -> None:
    started = time.monotonic()
    with pytest.raises(LookupError):
        app.result(987_654)  # no timeout: it must not wait for a message that does not exist
    assert time.monotonic() - started < 5


def test_a_cancelled_queued_message_is_a_lookup_error(app: conveyor.App) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> None:
        pass

    mid = app.emit(None, "w", delay=3600)
    assert app.cancel(mid)
    with pytest.raises(LookupError):
        app.result(mid, timeout=5)


def test_a_message_still_alive_times_out(app: conveyor.App) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> None:
        pass

    mid = app.emit(None, "w", delay=3600)
    with pytest.raises(TimeoutError, match=f"message {mid} did not finish within 0.2 s"):
        app.result(mid, timeout=0.2)
    with pytest.raises(TimeoutError):
        app.result(mid, timeout=0)


def test_a_waiter_wakes_when_another_thread_settles(app: conveyor.App, drain_later: Any) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> Any:
        return {"doubled": event * 2}

    mid = app.emit(21, "w")
    drain_later(0.3)
    assert app.result(mid, timeout=30) == {"doubled": 42}


def test_many_async_waiters_share_one_listener_and_never_block_the_loop(
    app: conveyor.App, drain_later: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.worker("w", results=60)
    async def w(event: Any) -> Any:
        return event

    listeners: list[object] = []
    opened = app.store.result_wakeups

    def counted() -> Any:
        listeners.append(opened())
        return listeners[-1]

    monkeypatch.setattr(app.store, "result_wakeups", counted)
    ids = app.emit_many([(i, "w") for i in range(1000)])

    async def main() -> tuple[list[Any], int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        drain_later(0.3)
        got = await asyncio.gather(*(app.aresult(i, timeout=60) for i in ids))
        ticker.cancel()
        return got, ticks

    got, ticks = asyncio.run(main())
    assert got == list(range(1000))
    assert len(listeners) == 1
    assert ticks >= 10  # the loop kept turning while a thousand waiters waited
    assert app.results_hub.looks < 200  # lookups cover many waiters each, not one per waiter


def test_aresult_raises_as_result_does(app: conveyor.App) -> None:
    @app.worker("w", results=60)
    def w(event: Any) -> None:
        raise conveyor.Cancel("stop")

    mid = app.emit(None, "w")
    alive = app.emit(None, "w", delay=3600)
    app.drain()

    async def main() -> None:
        with pytest.raises(conveyor.Failed):
            await app.aresult(mid, timeout=5)
        with pytest.raises(TimeoutError):
            await app.aresult(alive, timeout=0.1)
        with pytest.raises(LookupError):
            await app.aresult(123_456_789)

    asyncio.run(main())


def test_inside_a_handler_result_is_a_runtime_error(app: conveyor.App) -> None:
    @app.worker("sync", max_attempts=1)
    def sync(event: Any) -> None:
        app.result(event)

    @app.worker("async", max_attempts=1)
    async def async_(event: Any) -> None:
        await app.aresult(event)

    app.emit(1, "sync")
    app.emit(1, "async")
    app.drain()
    for name in ("sync", "async"):
        (trace,) = app.traces(name)
        assert trace.error is not None
        assert trace.error.startswith("RuntimeError: app.result() cannot wait inside a handler")


def test_results_expire_and_runners_prune_them_in_bounded_batches(app: conveyor.App, store: Store) -> None:
    @app.worker("brief", results=0.3)
    def brief(event: Any) -> int:
        return 1

    @app.worker("long", results=3600)
    def long(event: Any) -> int:
        return 2

    short_ids = app.emit_many([(i, "brief") for i in range(5)])
    kept = app.emit(None, "long")
    app.drain()
    assert app.result(short_ids[0]) == 1
    pruner = ResultPruner(store, "test-runner")
    assert pruner.turn() == 0  # nothing expired yet
    time.sleep(0.4)
    with pytest.raises(LookupError):
        app.result(short_ids[0])  # expired: gone for readers at once, before any prune
    assert store.prune_results(2) == 2  # bounded
    assert pruner.turn() == 3
    assert pruner.turn() == 0
    assert app.result(kept) == 2
    assert PRUNE_BATCH >= 100


def test_a_dead_letter_retried_is_waited_for_again(make_app: AppFactory) -> None:
    before, after = make_app(), make_app()  # a deploy that fixed the handler, on the same store

    @before.worker("w", results=60, max_attempts=1)
    def broken(event: Any) -> str:
        raise ValueError("first")

    @after.worker("w", results=60)
    def fixed(event: Any) -> str:
        return "fixed"

    mid = before.emit(None, "w")
    before.drain()
    with pytest.raises(conveyor.Failed):
        after.result(mid)
    assert after.retry_dead(mid) == 1
    with pytest.raises(TimeoutError):
        after.result(mid, timeout=0.1)  # alive again: its old failure no longer answers

    def drain() -> None:
        time.sleep(0.1)
        after.drain(timeout=30)

    waiter = threading.Thread(target=drain)
    waiter.start()
    try:
        assert after.result(mid, timeout=30) == "fixed"
    finally:
        waiter.join()


@pytest.mark.parametrize("bad", [0, -1, "60", True, float("nan"), 10**12])
def test_a_bad_results_option_fails_at_the_decorator(app: conveyor.App, bad: Any) -> None:
    with pytest.raises(ValueError, match="results must be seconds > 0"):

        @app.worker("w", results=bad)
        def w(event: Any) -> None:
            pass

    assert "w" not in app.registry


def test_bad_arguments_to_result(app: conveyor.App) -> None:
    with pytest.raises(TypeError, match="a message id is an int"):
        app.result("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a message id is an int from 1"):
        app.result(0)
    with pytest.raises(ValueError, match="timeout must be seconds >= 0"):
        app.result(1, timeout=-1)
    with pytest.raises(ValueError, match="timeout must be seconds >= 0"):
        app.result(1, timeout="soon")  # type: ignore[arg-type]


def test_a_message_whose_runs_all_lost_their_lease_fails_its_waiters(make_app: AppFactory) -> None:
    app = make_app(lease=0.05)

    @app.worker("w", results=60, max_attempts=1)
    def w(event: Any) -> str:
        return "never run"

    mid = app.emit(None, "w")
    app.store.claim("gone", {"w": None}, 10, 0.05)  # a runner that claims and dies
    time.sleep(0.2)
    app.drain()  # rescues it, and buries it without running it again
    with pytest.raises(conveyor.Failed) as caught:
        app.result(mid, timeout=5)
    assert caught.value.error is not None and "gone" in caught.value.error


def test_the_result_is_written_in_the_settle_that_finishes_the_message(store: Store) -> None:
    (mid,) = store.enqueue([NewMessage("w", b"1")])
    (claimed,) = store.claim("r", {"w": None}, 10, 30.0)
    kept = ResultRecord(mid, "w", "ok", '{"a": 1}', False, None, 60.0)
    (before,) = store.results([mid])
    assert (before.state, before.outcome) == ("running", None)
    store.settle("r", Settlement(complete=[claimed.id], results=[kept]))
    (after,) = store.results([mid])
    assert (after.state, after.outcome, after.value, after.is_repr) == (None, "ok", '{"a": 1}', False)
    assert after.finished_at is not None and abs(after.finished_at - time.time()) < 60


def test_inside_a_handler_a_look_without_waiting_is_allowed(app: conveyor.App) -> None:
    @app.worker("first", results=60)
    def first(event: Any) -> int:
        return 41

    looked: list[Any] = []

    @app.worker("second")
    def second(event: Any) -> None:
        looked.append(app.result(event, timeout=0))
        with pytest.raises(TimeoutError):
            app.result(alive, timeout=0)

    mid = app.emit(None, "first")
    alive = app.emit(None, "first", delay=3600)
    app.drain()
    app.emit(mid, "second")
    app.drain()
    assert looked == [41]
