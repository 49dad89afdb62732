"""Hooks (``on_emit``, ``on_start``, ``on_finish``) and ``Message.meta``, on every store: the order they
run in, what they see, meta carried through retries, snoozes and dead letters, and failures: a failing
``on_emit`` fails the emit with nothing written; a failing ``on_start`` / ``on_finish`` changes no outcome."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

import pytest

import conveyor


def nothing_stored(app: conveyor.App) -> bool:
    return app.messages() == [] and all(
        s.queued == s.scheduled == s.running == s.dead == 0 for s in app.status().values()
    )


def test_on_emit_sees_the_message_and_its_meta_is_written(make_app: Callable[..., conveyor.App]) -> None:
    app = make_app()
    seen: list[conveyor.OutgoingMessage] = []
    handled: list[dict[str, str]] = []

    @app.on_emit
    def tenant(out: conveyor.OutgoingMessage) -> None:
        seen.append(out)
        if len(seen) == 1:
            out.meta["tenant"] = "acme"
            out.meta["worker"] = out.worker
        out.meta["emit"] = str(len(seen))

    @app.worker("w")
    def handle(event: object, msg: conveyor.Message) -> None:
        handled.append(msg.meta)

    mid = app.emit({"n": 1}, "w", key="k", priority=3, delay=30)
    out = seen[0]
    assert (out.worker, out.event, out.key, out.priority, out.parent_id) == ("w", {"n": 1}, "k", 3, None)
    assert 29 < out.delay <= 30
    message = app.message(mid)
    assert message is not None and message.meta == {"tenant": "acme", "worker": "w", "emit": "1"}
    assert [m.meta for m in app.messages("w")] == [{"tenant": "acme", "worker": "w", "emit": "1"}]
    assert app.emit({"n": 1}, "w", key="k") == mid  # a key already queued: the same message, its meta kept
    message = app.message(mid)
    assert message is not None and message.meta == {"tenant": "acme", "worker": "w", "emit": "1"}
    assert [o.meta["emit"] for o in seen] == ["1", "2"]
    app.emit("now", "w")
    assert app.drain() == 1
    assert handled == [{"emit": "3"}]


def test_without_hooks_meta_is_empty(app: conveyor.App) -> None:
    @app.worker("w")
    def handle(event: object, msg: conveyor.Message) -> None:
        assert msg.meta == {}

    mid = app.emit(1, "w")
    message = app.message(mid)
    assert message is not None and message.meta == {}
    assert app.drain() == 1
    assert app.traces("w")[0].outcome == "ok"


def test_hooks_run_in_order_before_hooks_forward_after_hooks_reversed(app: conveyor.App) -> None:
    calls: list[str] = []
    for name in ("a", "b", "c"):
        app.on_emit(lambda out, name=name: calls.append(f"emit {name}"))
        app.on_start(lambda msg, name=name: calls.append(f"start {name}"))
        app.on_finish(lambda trace, name=name: calls.append(f"finish {name}"))

    @app.worker("w")
    def handle(event: object) -> None:
        calls.append("handler")

    app.emit(1, "w")
    assert app.drain() == 1
    assert calls == [
        "emit a",
        "emit b",
        "emit c",
        "start a",
        "start b",
        "start c",
        "handler",
        "finish c",
        "finish b",
        "finish a",
    ]


def test_meta_is_carried_through_retries_snoozes_and_dead_letters(app: conveyor.App) -> None:
    runs: list[tuple[int, dict[str, str]]] = []

    @app.on_emit
    def mark(out: conveyor.OutgoingMessage) -> None:
        out.meta["m"] = "1"

    @app.worker("w", max_attempts=2, backoff=0)
    def handle(event: object, msg: conveyor.Message) -> None:
        runs.append((msg.attempt, msg.meta))
        if msg.snoozes == 0:
            raise conveyor.Incomplete(delay=0)
        raise RuntimeError("boom")

    mid = app.emit(1, "w")
    app.drain()
    assert runs == [(1, {"m": "1"}), (1, {"m": "1"}), (2, {"m": "1"})]  # snooze, then two failures
    (dead,) = app.dead("w")
    assert dead.id == mid and dead.meta == {"m": "1"}
    assert app.retry_dead(mid) == 1
    message = app.message(mid)
    assert message is not None and message.meta == {"m": "1"}


def test_on_finish_gets_the_finished_trace(app: conveyor.App) -> None:
    traces: list[conveyor.Trace] = []
    app.on_finish(traces.append)

    @app.worker("w", max_attempts=2, backoff=0, traces=0)  # kept or not, on_finish gets every run
    def handle(event: Any, msg: conveyor.Message) -> Any:
        logging.getLogger("mine").warning("running %s", event)
        if event == "fail" and msg.attempt == 1:
            raise ValueError("first try")
        return {"got": event}

    ok, fail = app.emit("ok", "w"), app.emit("fail", "w")
    app.drain()
    by = {(t.message_id, t.attempt): t for t in traces}
    assert set(by) == {(ok, 1), (fail, 1), (fail, 2)}
    assert by[ok, 1].outcome == "ok" and by[ok, 1].result == {"got": "ok"} and by[ok, 1].event == "ok"
    assert by[fail, 1].outcome == "error" and by[fail, 1].error == "ValueError: first try"
    assert by[fail, 1].traceback is not None and "first try" in by[fail, 1].traceback
    assert by[fail, 2].outcome == "ok"
    assert any("running ok" in line for line in by[ok, 1].logs)
    assert all(t.worker == "w" and t.finished_at >= t.started_at >= t.enqueued_at for t in traces)
    assert app.traces("w") == []


def test_children_inherit_meta_and_hooks_see_their_parent(app: conveyor.App) -> None:
    seen: list[tuple[str, int | None, dict[str, str]]] = []

    @app.on_emit
    def hop(out: conveyor.OutgoingMessage) -> None:
        seen.append((out.worker, out.parent_id, dict(out.meta)))
        out.meta["hops"] = str(int(out.meta.get("hops", "0")) + 1)

    @app.worker("parent")
    def parent(event: object) -> None:
        conveyor.emit("child", "child")

    got: list[dict[str, str]] = []

    @app.worker("child")
    def child(event: object, msg: conveyor.Message) -> None:
        got.append(msg.meta)

    pid = app.emit("p", "parent")
    assert app.drain() == 2
    assert seen == [("parent", None, {}), ("child", pid, {"hops": "1"})]
    assert got == [{"hops": "2"}]


def test_meta_of_emit_many_and_a_groups_then_message(app: conveyor.App) -> None:
    @app.on_emit
    def mark(out: conveyor.OutgoingMessage) -> None:
        out.meta["for"] = out.worker

    metas: dict[str, dict[str, str]] = {}

    @app.worker("a")
    def a(event: object, msg: conveyor.Message) -> None:
        metas[f"a{event}"] = msg.meta

    @app.worker("done")
    def done(event: object, msg: conveyor.Message) -> None:
        metas["done"] = msg.meta

    ids = app.emit_many([(1, "a"), (2, "a", {"priority": 1})])
    app.emit_many([(3, "a")], then=("all", "done"))
    assert [m.meta for m in app.messages("a")] == [{"for": "a"}] * 3
    app.drain()
    assert metas == {"a1": {"for": "a"}, "a2": {"for": "a"}, "a3": {"for": "a"}, "done": {"for": "done"}}
    assert len(ids) == 2


class Refused(Exception):
    pass


def test_a_failing_on_emit_fails_every_emit_and_writes_nothing(app: conveyor.App) -> None:
    @app.on_emit
    def refuse(out: conveyor.OutgoingMessage) -> None:
        if out.event == "no":
            raise Refused(out.worker)

    @app.worker("w")
    def handle(event: object) -> None:
        conveyor.emit("no", "w")

    with pytest.raises(Refused):
        app.emit("no", "w")
    with pytest.raises(Refused):
        app.emit_many([("yes", "w"), ("no", "w")])
    with pytest.raises(Refused):
        app.emit_many([("yes", "w")], then=("no", "w"))

    async def go() -> None:
        with pytest.raises(Refused):
            await app.aemit("no", "w")
        with pytest.raises(Refused):
            await app.aemit_many([("yes", "w"), ("no", "w")])

    asyncio.run(go())
    assert nothing_stored(app)
    mid = app.emit("yes", "w")
    app.drain()
    (trace,) = app.traces("w")  # conveyor.emit in the handler failed with the hook's error
    assert trace.message_id == mid and trace.outcome == "error" and trace.error == "Refused: w"
    assert [m.id for m in app.messages()] == [mid]  # back for a retry


BAD_META: list[tuple[dict[Any, Any], str]] = [
    ({"n": 1}, "must be a str"),
    ({"": "x"}, "meta keys must be non-empty str"),
    ({"x": "a\x00b"}, "without NUL"),
    ({"big": "x" * 4100}, "at most 4,096"),
]


def test_bad_meta_is_a_value_error_and_nothing_is_written(app: conveyor.App) -> None:
    bad: dict[Any, Any] = {}

    @app.on_emit
    def give(out: conveyor.OutgoingMessage) -> None:
        out.meta.update(bad)

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    for meta, error in BAD_META:
        bad.clear()
        bad.update(meta)
        with pytest.raises(ValueError, match=error):
            app.emit(1, "w")
        with pytest.raises(ValueError, match=error):
            app.emit_many([(1, "w"), (2, "w")])
    assert nothing_stored(app)
    bad.clear()
    bad["v"] = "é" * 2000  # 4,000 bytes in UTF-8; with the key and the JSON around it: 4,011
    message = app.message(app.emit(1, "w"))
    assert message is not None and message.meta == bad


def test_failing_on_start_and_on_finish_are_logged_and_outcomes_stand(
    app: conveyor.App, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[object] = []

    @app.on_start
    def start(msg: conveyor.Message) -> None:
        raise RuntimeError("start hook")

    @app.on_finish
    def finish(trace: conveyor.Trace) -> None:
        raise RuntimeError("finish hook")

    @app.worker("w")
    def handle(event: object) -> str:
        ran.append(event)
        return "fine"

    with caplog.at_level(logging.ERROR, logger="conveyor.hooks"):
        mid = app.emit(1, "w")
        assert app.drain() == 1
    assert ran == [1]
    (trace,) = app.traces("w")
    assert trace.message_id == mid and trace.outcome == "ok" and trace.result == "fine"
    assert app.message(mid) is None
    texts = [r.getMessage() for r in caplog.records if r.name == "conveyor.hooks"]
    assert any("on_start hook failed" in t for t in texts)
    assert any("on_finish hook failed" in t for t in texts)


_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)


def test_on_start_runs_in_the_handlers_context(app: conveyor.App) -> None:
    @app.on_emit
    def tag(out: conveyor.OutgoingMessage) -> None:
        out.meta["tenant"] = str(out.event)

    @app.on_start
    def enter(msg: conveyor.Message) -> None:
        _tenant.set(msg.meta.get("tenant"))

    seen: list[tuple[str, str | None]] = []

    @app.worker("sync")
    def sync(event: object) -> None:
        seen.append(("sync", _tenant.get()))

    @app.worker("async")
    async def async_(event: object) -> None:
        seen.append(("async", _tenant.get()))

    app.emit("t1", "sync")
    app.emit("t2", "async")
    app.drain()
    assert sorted(seen) == [("async", "t2"), ("sync", "t1")]
    assert _tenant.get() is None


def test_hooks_must_be_sync_callables() -> None:
    app = conveyor.App("sqlite:///:memory:")  # nothing is opened: no store needed

    async def coro(x: object) -> None:
        pass

    for register in (app.on_emit, app.on_start, app.on_finish):
        with pytest.raises(TypeError, match="sync"):
            register(coro)
        with pytest.raises(TypeError, match="callable"):
            register("not callable")  # type: ignore[arg-type]
