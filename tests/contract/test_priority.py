"""Priorities (docs/flow-control.md): emit(priority=), emit_many options, claim order on every store."""

from __future__ import annotations

from typing import Any

import pytest

import conveyor
from conveyor._stores import NewMessage, Settlement, Store


def test_priorities_claim_in_order_100_before_0_before_minus_100(app: conveyor.App) -> None:
    order: list[int] = []

    @app.worker("w", concurrency=1)
    def handle(event: Any, msg: conveyor.Message) -> None:
        order.append(msg.priority)

    for priority in (-100, 0, 100, 0, -100, 100, 0):
        app.emit({"p": priority}, "w", priority=priority)
    assert app.drain() == 7
    assert order == [100, 100, 0, 0, 0, -100, -100]


@pytest.mark.parametrize("cap", [None, 2])
def test_a_claim_takes_priority_then_run_at_then_id_with_and_without_a_cap(
    store: Store, cap: int | None
) -> None:
    priorities = [0, -5, 7, 0, 100, -100, 7, 0]
    ids = store.enqueue([NewMessage("w", b"{}", priority=p) for p in priorities])
    store.enqueue([NewMessage("w", b"{}", delay=60.0, priority=100)])  # due later: not claimed
    expected = [i for _, _, i in sorted(zip((-p for p in priorities), range(8), ids, strict=True))]
    claimed = []
    while got := store.claim("r", {"w": cap}, 3, 30.0):
        assert len(got) <= (cap or 3)
        claimed += [c.id for c in got]
        store.settle("r", Settlement(complete=[c.id for c in got]))
    assert claimed == expected


def test_message_priority_is_shown_and_defaults_to_0(app: conveyor.App) -> None:
    first = app.emit({}, "w")
    second = app.emit({}, "w", priority=-3)
    assert app.message(first).priority == 0  # type: ignore[union-attr]
    assert app.message(second).priority == -3  # type: ignore[union-attr]
    assert [m.priority for m in app.messages("w")] == [0, -3]


@pytest.mark.parametrize("bad", [101, -101, 1.0, True, "1", None, 2**200])
def test_a_bad_priority_is_a_value_error_and_nothing_is_written(app: conveyor.App, bad: Any) -> None:
    with pytest.raises(ValueError, match="priority must be an int from -100 to 100"):
        app.emit({}, "w", priority=bad)
    with pytest.raises(ValueError, match="priority must be an int from -100 to 100"):
        app.emit_many([({}, "w"), ({}, "w", {"priority": bad})])
    assert app.messages("w") == []


def test_emit_many_takes_options_per_item(app: conveyor.App) -> None:
    ids = app.emit_many([({"a": 1}, "w"), ({"b": 2}, "w", {"priority": 9, "key": "k", "delay": 30})])
    plain, rich = (app.message(i) for i in ids)
    assert plain is not None and rich is not None
    assert (plain.priority, plain.key, plain.state) == (0, None, "queued")
    assert (rich.priority, rich.key, rich.state) == (9, "k", "scheduled")
    with pytest.raises(ValueError, match="unknown option 'prio'"):
        app.emit_many([({}, "w", {"prio": 1})])
    with pytest.raises(TypeError, match="options must be a dict"):
        app.emit_many([({}, "w", [("priority", 1)])])
    assert len(app.messages("w")) == 2
