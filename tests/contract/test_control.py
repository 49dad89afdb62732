"""Operator control: pause/resume/block, unknown workers, cancel and purge."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import conveyor


@pytest.fixture
def ran() -> list[Any]:
    return []


@pytest.fixture
def app(make_app, ran: list[Any]):  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w")
    def handle(event: Any) -> None:
        ran.append(event)

    @app.worker("other")
    def other(event: Any) -> None:
        ran.append(("other", event))

    return app


def test_pause_holds_messages_and_counts_keep_growing(app: conveyor.App, ran: list[Any]) -> None:
    app.pause("w")
    app.emit(1, "w")
    app.emit(2, "w")
    app.emit(3, "other")
    assert app.drain() == 1  # only the other worker ran
    assert ran == [("other", 3)]
    status = app.status()["w"]
    assert status.paused and status.queued == 2 and status.blocked is None
    app.emit(4, "w")
    assert app.status()["w"].queued == 3
    app.resume("w")
    assert not app.status()["w"].paused
    assert app.drain() == 3
    assert sorted(x for x in ran if isinstance(x, int)) == [1, 2, 4]


def test_block_wins_over_pause_and_keeps_its_reason(app: conveyor.App, ran: list[Any]) -> None:
    app.pause("w")
    app.block("w", "bad deploy, see INC-42")
    app.emit(1, "w")
    app.resume("w")
    assert app.drain() == 0 and ran == []
    status = app.status()["w"]
    assert status.blocked == "bad deploy, see INC-42" and not status.paused
    app.pause("w")
    app.unblock("w")
    assert app.drain() == 0  # still paused
    assert app.status()["w"].paused and app.status()["w"].blocked is None
    app.resume("w")
    assert app.drain() == 1 and ran == [1]


def test_block_needs_a_reason(app: conveyor.App) -> None:
    with pytest.raises(ValueError, match="reason"):
        app.block("w", "")
    assert app.status()["w"].blocked is None


def test_rules_on_a_worker_with_no_messages_show_in_status(app: conveyor.App) -> None:
    app.pause("idle-one")
    assert app.status()["idle-one"].paused


def test_unknown_worker_is_held_listed_and_processed_when_defined(make_app) -> None:  # type: ignore[no-untyped-def]
    emitter = make_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        first = emitter.emit({"n": 1}, "later")
        emitter.emit({"n": 2}, "later")
    assert emitter.drain() == 0
    status = emitter.status()["later"]
    assert status.unknown and status.queued == 2
    (unknown,) = emitter.unknown()
    assert (unknown.name, unknown.count, unknown.sample_event) == ("later", 2, {"n": 1})
    assert unknown.first_emit <= unknown.last_emit
    assert emitter.messages("later")[0].id == first

    deployed = make_app()
    got: list[Any] = []

    @deployed.worker("later")
    def handle(event: Any) -> None:
        got.append(event)

    assert deployed.status()["later"].unknown is False
    assert deployed.drain() == 2
    assert got == [{"n": 1}, {"n": 2}]
    assert emitter.unknown() == []


def test_unknown_messages_can_be_discarded(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        for i in range(3):
            app.emit(i, "typo-worker")
    assert app.purge("typo-worker") == 3
    assert app.unknown() == []


def test_cancel_removes_only_a_queued_or_scheduled_message(app: conveyor.App, ran: list[Any]) -> None:
    keep = app.emit("keep", "w")
    drop = app.emit("drop", "w")
    later = app.emit("later", "w", delay=3600)
    assert app.cancel(drop) is True
    assert app.cancel(drop) is False
    assert app.cancel(later) is True
    assert app.cancel(999_999) is False
    assert [m.id for m in app.messages()] == [keep]
    app.drain()
    assert ran == ["keep"]
    with pytest.raises(TypeError):
        app.cancel("1")  # type: ignore[arg-type]


def test_cancel_of_a_running_or_dead_message_is_refused(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    answers: list[bool] = []

    @app.worker("w", max_attempts=1)
    def handle(event: Any, msg: conveyor.Message) -> None:
        answers.append(app.cancel(msg.id))
        raise RuntimeError("dies")

    mid = app.emit("x", "w")
    app.drain()
    assert answers == [False]
    assert app.cancel(mid) is False
    assert [m.id for m in app.dead()] == [mid]


def test_purge_removes_queued_and_scheduled_of_one_worker(app: conveyor.App, ran: list[Any]) -> None:
    for i in range(5):
        app.emit(i, "w")
    app.emit("x", "w", delay=3600)
    app.emit("stays", "other")
    assert app.purge("w") == 6
    assert app.purge("w") == 0
    assert app.drain() == 1 and ran == [("other", "stays")]


def test_messages_filters_and_limits(app: conveyor.App) -> None:
    for i in range(5):
        app.emit(i, "w")
    app.emit("s", "w", delay=60)
    app.emit("o", "other")
    assert [m.event for m in app.messages("w", limit=2)] == [0, 1]
    assert [m.event for m in app.messages(state="scheduled")] == ["s"]
    assert len(app.messages(worker="w", state="queued")) == 5
    assert [m.event for m in app.messages("other")] == ["o"]
    with pytest.raises(ValueError, match="state must be one of"):
        app.messages(state="done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        app.messages(limit=0)


def test_status_lists_defined_workers_even_without_messages(app: conveyor.App) -> None:
    status = app.status()
    assert set(status) >= {"w", "other"}
    assert status["w"] == conveyor.WorkerStatus("w", 0, 0, 0, 0, False, None, False)
