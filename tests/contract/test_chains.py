"""Emits from inside handlers: parent/root, and loop protection."""

from __future__ import annotations

from typing import Any

import pytest

import conveyor


def test_children_record_parent_and_root(app: conveyor.App) -> None:
    seen: dict[str, conveyor.Message] = {}

    @app.worker("top")
    def top(event: Any, msg: conveyor.Message) -> None:
        seen["top"] = msg
        conveyor.emit({"from": "top"}, "middle")

    @app.worker("middle")
    def middle(event: Any, msg: conveyor.Message) -> None:
        seen["middle"] = msg
        conveyor.emit({"from": "middle"}, "leaf", delay=0)

    @app.worker("leaf")
    async def leaf(event: Any, msg: conveyor.Message) -> None:
        seen["leaf"] = msg

    root = app.emit({}, "top")
    assert app.drain() == 3
    assert seen["top"].parent_id is None and seen["top"].root_id is None
    assert seen["middle"].parent_id == root and seen["middle"].root_id == root
    assert seen["leaf"].parent_id == seen["middle"].id and seen["leaf"].root_id == root
    assert app.traces("top")[0].emitted == [seen["middle"].id]
    assert app.traces("middle")[0].emitted == [seen["leaf"].id]


def test_conveyor_emit_outside_a_handler_is_an_error(app: conveyor.App) -> None:
    with pytest.raises(RuntimeError, match=r"only inside a handler; elsewhere call app.emit"):
        conveyor.emit({}, "x")


def test_bad_emit_inside_a_handler_fails_that_message(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=1)
    def handle(event: Any) -> None:
        conveyor.emit({"s": {1}}, "w")

    app.emit({}, "w")
    app.drain()
    assert app.traces("w")[0].error == "TypeError: event['s']: set is not JSON-encodable"
    assert len(app.dead()) == 1


def test_doubling_self_loop_is_blocked_and_held(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    handled = [0]

    @app.worker("boom", loop_limit=100)
    def boom(event: Any) -> None:
        handled[0] += 1
        conveyor.emit(event, "boom")
        conveyor.emit(event, "boom")

    app.emit({"go": 1}, "boom")
    app.drain(timeout=60)
    status = app.status()["boom"]
    assert (
        status.blocked is not None
        and "loop protection" in status.blocked
        and "loop_limit=100" in status.blocked
    )
    emitted = 1 + 2 * handled[0]
    assert emitted < 2000  # stopped early
    assert status.queued == emitted - handled[0] > 0  # every unhandled message is held, none dropped
    assert app.drain() == 0  # stays held while blocked
    app.purge("boom")


def test_linear_self_chain_is_not_blocked(app: conveyor.App) -> None:
    steps: list[int] = []

    @app.worker("page", loop_limit=100)
    def page(event: int) -> None:
        steps.append(event)
        if event < 600:
            conveyor.emit(event + 1, "page")

    app.emit(1, "page")
    assert app.drain(timeout=120) == 600
    assert steps == list(range(1, 601))
    assert app.status()["page"].blocked is None


def test_fan_out_to_another_worker_is_not_a_loop(app: conveyor.App) -> None:
    got: list[int] = []

    @app.worker("split", loop_limit=100)
    def split(event: Any) -> None:
        for i in range(1500):
            conveyor.emit(i, "part")

    @app.worker("part", loop_limit=100)
    def part(event: int) -> None:
        got.append(event)

    app.emit({}, "split")
    assert app.drain(timeout=120) == 1501
    assert sorted(got) == list(range(1500))
    assert app.status()["split"].blocked is None and app.status()["part"].blocked is None


def test_loop_limit_none_disables_protection(app: conveyor.App) -> None:
    @app.worker("boom", loop_limit=None)
    def boom(event: int) -> None:
        if event < 8:
            conveyor.emit(event + 1, "boom")
            conveyor.emit(event + 1, "boom")

    app.emit(0, "boom")
    assert app.drain(timeout=60) == 2**9 - 1
    assert app.status()["boom"].blocked is None
