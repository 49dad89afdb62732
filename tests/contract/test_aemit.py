"""``await app.aemit(...)`` / ``await app.aemit_many(...)``: what ``emit`` / ``emit_many`` do, the same
errors for the same bad input with nothing written, and the event loop kept running. Every store."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import conveyor


@pytest.fixture
def app(make_app: Callable[..., conveyor.App]) -> conveyor.App:
    app = make_app()

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    @app.worker("after")
    def after(event: object, msg: conveyor.Message) -> None:
        pass

    return app


def nothing_stored(app: conveyor.App) -> bool:
    return app.messages() == [] and all(
        s.queued == s.scheduled == s.running == s.dead == 0 for s in app.status().values()
    )


def test_aemit_enqueues_like_emit(app: conveyor.App) -> None:
    async def go() -> list[int]:
        return [
            await app.aemit({"n": 1}, "w"),
            await app.aemit("later", "w", delay=60),
            await app.aemit("at", "w", at=datetime.now(UTC) + timedelta(hours=1)),
            await app.aemit("urgent", "w", priority=7),
        ]

    now, later, at, urgent = asyncio.run(go())
    assert now < later < at < urgent
    messages = {m.id: m for m in app.messages()}
    assert set(messages) == {now, later, at, urgent}
    assert messages[now].event == {"n": 1} and messages[now].state == "queued"
    assert messages[later].state == messages[at].state == "scheduled"
    assert 55 < (messages[later].run_at - datetime.now(UTC)).total_seconds() <= 60
    assert messages[urgent].priority == 7
    assert app.drain() == 2


def test_aemit_key_dedups_like_emit(app: conveyor.App) -> None:
    async def go() -> tuple[int, int, int]:
        first = await app.aemit({"n": 1}, "w", key="order-7")
        return first, await app.aemit({"n": 2}, "w", key="order-7"), app.emit(3, "w", key="order-7")

    first, again, sync = asyncio.run(go())
    assert first == again == sync
    assert [m.event for m in app.messages()] == [{"n": 1}]


def test_aemit_many_is_one_transaction(app: conveyor.App) -> None:
    ids = asyncio.run(app.aemit_many([({"i": i}, "w") for i in range(5)] + [(9, "w", {"priority": 3})]))
    assert len(set(ids)) == 6 and ids == sorted(ids)
    messages = {m.id: m for m in app.messages()}
    assert [messages[i].event for i in ids] == [{"i": i} for i in range(5)] + [9]
    assert messages[ids[5]].priority == 3
    with pytest.raises(TypeError, match="not JSON-encodable"):
        asyncio.run(app.aemit_many([({"i": 9}, "w"), ({"bad": {1}}, "w")]))
    assert len(app.messages()) == 6
    assert asyncio.run(app.aemit_many([])) == []


def test_aemit_many_then_follows_the_group(app: conveyor.App) -> None:
    ids = asyncio.run(app.aemit_many([(1, "w"), (2, "w")], then=("all done", "after")))
    assert app.drain() == 3
    traces = app.traces("after")
    assert [t.outcome for t in traces] == ["ok"]
    assert len(ids) == 2


BAD_EMITS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (({"x": 1}, "w"), {"delay": -1}),
    (({"x": 1}, "w"), {"delay": 1, "at": datetime.now(UTC)}),
    (({"x": 1}, "w"), {"at": datetime(2030, 1, 1)}),
    (({"x": 1}, "w"), {"at": "tomorrow"}),
    (({"x": 1}, "w"), {"key": ""}),
    (({"x": 1}, "w"), {"priority": 101}),
    (({"x": 1}, "w"), {"priority": "high"}),
    (({"user": {"tags": {"a"}}}, "w"), {}),
    (("x" * 2_000_000, "w"), {}),
    (({"x": 1}, "bad name"), {}),
    (({"x": 1}, 42), {}),
]


def _error(call: Any) -> tuple[type[BaseException], str]:
    try:
        call()
    except Exception as error:
        return type(error), str(error)
    raise AssertionError("no error")


@pytest.mark.parametrize(("args", "options"), BAD_EMITS)
def test_aemit_raises_what_emit_raises_and_writes_nothing(
    app: conveyor.App, args: tuple[Any, ...], options: dict[str, Any]
) -> None:
    expected = _error(lambda: app.emit(*args, **options))
    assert _error(lambda: asyncio.run(app.aemit(*args, **options))) == expected
    assert nothing_stored(app)


BAD_MANY: list[tuple[Any, Any]] = [
    ([(1, "w"), (2, "w", {"delay": -1})], None),
    ([(1, "w"), (2, "w", {"colour": "red"})], None),
    ([(1, "w"), "w"], None),
    ([(1, "w"), ({1}, "w")], None),
    ([], (None, "after")),
    ([(1, "w"), (2, "w", {"key": "k"})], (None, "after")),
    ([(1, "w")], "after"),
    ([(1, "w")], (None, "after", {"key": "k"})),
    ([(1, "w")], (None, "bad name")),
]


@pytest.mark.parametrize(("items", "then"), BAD_MANY)
def test_aemit_many_raises_what_emit_many_raises_and_writes_nothing(
    app: conveyor.App, items: Any, then: Any
) -> None:
    expected = _error(lambda: app.emit_many(items, then=then))
    assert _error(lambda: asyncio.run(app.aemit_many(items, then=then))) == expected
    assert nothing_stored(app)


def test_aemit_to_an_unknown_worker_warns_at_the_callers_line(app: conveyor.App) -> None:
    async def caller() -> int:
        return await app.aemit({"boo": 1}, "ghost")

    with pytest.warns(conveyor.UnknownWorkerWarning, match="no worker named 'ghost'") as caught:
        asyncio.run(caller())
    assert caught[0].filename == __file__
    with pytest.warns(conveyor.UnknownWorkerWarning, match="no worker named 'ghost-2'"):
        asyncio.run(app.aemit_many([(1, "w"), (2, "ghost-2")]))
    assert app.status()["ghost"].unknown is True


def test_conn_is_postgresql_only(app: conveyor.App, store_kind: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        asyncio.run(app.aemit("x", "w", conn=object()))
    if store_kind.startswith("sqlite"):
        assert "PostgreSQL" in str(info.value)
    assert nothing_stored(app)


def test_the_loop_keeps_ticking_through_a_thousand_aemits(app: conveyor.App) -> None:
    """The property behind "never blocks the loop": a 1 ms ticker is never held up for long while one
    task emits 1,000 messages (bench/aemit.py measures the real lateness; this bound is generous)."""

    async def go() -> tuple[list[int], float, int]:
        done = asyncio.Event()
        lateness = 0.0
        ticks = 0

        async def ticker() -> None:
            nonlocal lateness, ticks
            while not done.is_set():
                start = time.perf_counter()
                await asyncio.sleep(0.001)
                lateness = max(lateness, time.perf_counter() - start - 0.001)
                ticks += 1

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        ids = [await app.aemit({"i": i}, "w") for i in range(1000)]
        done.set()
        await tick
        return ids, lateness, ticks

    # The test process's heap is large (every test before this one): a full collection of it takes tens
    # of ms whatever the loop does. Frozen, the collector looks only at what this test allocates.
    gc.collect()
    gc.freeze()
    try:
        ids, lateness, ticks = asyncio.run(go())
    finally:
        gc.unfreeze()
    assert len(set(ids)) == 1000 and app.status()["w"].queued == 1000
    assert ticks > 10
    # A loop that waited on each write would see ~1,000 writes' worth of lateness and few ticks; the
    # bound leaves room for a loaded CI machine (bench/aemit.py measures the real figure, ~1-2 ms).
    assert lateness < 0.1, f"a tick was {lateness * 1000:.1f} ms late"


def test_concurrent_aemits_from_two_loops_all_land(app: conveyor.App) -> None:
    async def burst(base: int) -> list[int]:
        return list(await asyncio.gather(*(app.aemit(base + i, "w") for i in range(200))))

    results: dict[int, list[int]] = {}

    def in_thread(base: int) -> None:
        results[base] = asyncio.run(burst(base))

    threads = [threading.Thread(target=in_thread, args=(base,)) for base in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = results[0] + results[1000]
    assert len(set(ids)) == 400
    events = {m.id: m.event for m in app.messages(limit=1000)}
    assert [events[i] for i in results[0]] == list(range(200))
    assert [events[i] for i in results[1000]] == list(range(1000, 1200))


def test_an_async_handler_can_await_aemit(app: conveyor.App) -> None:
    @app.worker("fan")
    async def fan(event: int) -> None:
        await app.aemit(event + 1, "w")

    app.emit(1, "fan")
    assert app.drain() == 2
    assert [t.outcome for t in app.traces("w")] == ["ok"]


def test_enqueue_nowait_writes_what_enqueue_writes_or_nothing(app: conveyor.App, store_kind: str) -> None:
    """``Store.enqueue_nowait``: SQLite writes the message at once (its write lock is free here);
    PostgreSQL never does (a round trip), a named difference: ``aemit`` then uses the emit thread."""
    store = app.store
    message = app.emitter.prepare({"n": 1}, "w", delay=None, at=None, key=None, priority=3)
    message_id = store.enqueue_nowait(message)
    if store_kind == "postgres":
        assert message_id is None and app.messages() == []
        return
    assert message_id is not None
    (stored,) = app.messages()
    assert (stored.id, stored.worker, stored.event, stored.priority) == (message_id, "w", {"n": 1}, 3)
    assert app.drain() == 1
