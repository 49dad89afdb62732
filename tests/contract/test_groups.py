"""Fan-in (docs/results.md): ``emit_many(items, then=...)`` emits ``then`` exactly once, when every
message of the group finished (done, dead or cancelled), in the transaction of the last one. Every store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import conveyor
from conveyor._stores import Settlement, Store

AppFactory = Callable[..., conveyor.App]
Seen = list[conveyor.Message]


@pytest.fixture
def seen(app: conveyor.App) -> list[conveyor.Message]:
    """Messages the ``done`` worker ran; ``part`` doubles its event, dies on "die", cancels on "cancel"."""
    runs: list[conveyor.Message] = []

    @app.worker("part", results=60, max_attempts=1)
    def part(event: Any) -> Any:
        if event == "die":
            raise ValueError("died")
        if event == "cancel":
            raise conveyor.Cancel("not wanted")
        return event * 2

    @app.worker("done", results=60)
    def done(event: Any, msg: conveyor.Message) -> Any:
        runs.append(msg)
        assert msg.group is not None
        return [_outcome(app, i) for i in msg.group]

    return runs


def _outcome(app: conveyor.App, message_id: int) -> str:
    """What a then handler reads of a member: a look, never a wait."""
    try:
        app.result(message_id, timeout=0)
    except conveyor.Failed as failed:
        return failed.outcome
    except LookupError:
        return "gone"  # cancelled while queued: no result is kept
    return "ok"


def test_then_follows_once_every_message_finished(app: conveyor.App, seen: Seen) -> None:
    ids = app.emit_many([(1, "part"), (2, "part"), (3, "part")], then=({"all": "parts"}, "done"))
    assert len(ids) == 3
    assert app.messages(worker="done") == []  # nothing to follow yet
    app.drain()
    app.drain()  # the then message, emitted by the last settle
    (then,) = seen
    assert (then.event, then.group, then.worker) == ({"all": "parts"}, ids, "done")
    assert app.result(then.id) == ["ok", "ok", "ok"]
    assert [app.result(i) for i in ids] == [2, 4, 6]
    app.drain()
    assert len(seen) == 1  # exactly once


def test_dead_and_cancelled_members_finish_the_group_too(
    app: conveyor.App, seen: list[conveyor.Message]
) -> None:
    ids = app.emit_many([(1, "part"), ("die", "part"), ("cancel", "part")], then=(None, "done"))
    app.drain()
    app.drain()
    (then,) = seen
    assert then.group == ids
    assert app.result(then.id) == ["ok", "dead", "cancelled"]


def test_a_member_cancelled_while_queued_counts_as_finished(
    app: conveyor.App, seen: list[conveyor.Message]
) -> None:
    ids = app.emit_many([(1, "part"), (2, "part", {"delay": 3600})], then=(None, "done"))
    app.drain()
    assert seen == [] and app.messages(worker="done") == []
    assert app.cancel(ids[1])
    (waiting,) = app.messages(worker="done")
    assert waiting.group == ids  # shown on the then message while it waits, too
    app.drain()
    assert [m.group for m in seen] == [ids]
    (then,) = seen
    assert app.result(then.id) == ["ok", "gone"]


def test_a_dead_member_retried_does_not_emit_then_again(
    app: conveyor.App, seen: list[conveyor.Message]
) -> None:
    ids = app.emit_many([("die", "part")], then=(None, "done"))
    app.drain()
    app.drain()
    assert len(seen) == 1
    assert app.retry_dead(ids[0]) == 1
    app.drain()
    app.drain()
    assert len(seen) == 1


def test_a_settle_sent_twice_counts_a_member_once(store: Store, make_app: AppFactory) -> None:
    app = make_app()
    app.worker("done")(lambda event: None)
    app.worker("part")(lambda event: None)
    ids = app.emit_many([(1, "part"), (2, "part")], then=(None, "done"))
    claimed = store.claim("r", {"part": None}, 10, 30.0)
    assert sorted(c.id for c in claimed) == ids and {c.group_id for c in claimed} != {None}
    first = Settlement(complete=[ids[0]], grouped=[ids[0]])
    store.settle("r", first)
    store.settle("r", Settlement(complete=[ids[0]], grouped=[ids[0]]))  # its reply was lost: sent again
    assert app.messages(worker="done") == []
    store.settle("r", Settlement(complete=[ids[1]], grouped=[ids[1]]))
    (then,) = app.messages(worker="done")
    assert then.group == ids


def test_a_handler_can_emit_a_group(app: conveyor.App, seen: list[conveyor.Message]) -> None:
    @app.worker("fan")
    def fan(event: Any) -> list[int]:
        return app.emit_many([(i, "part") for i in range(event)], then=({"n": event}, "done"))

    app.emit(4, "fan")
    for _ in range(3):
        app.drain()
    (then,) = seen
    assert then.event == {"n": 4} and then.group is not None and len(then.group) == 4


def test_bad_groups_are_refused_and_write_nothing(app: conveyor.App, seen: Seen) -> None:
    with pytest.raises(ValueError, match="needs at least one item"):
        app.emit_many([], then=(None, "done"))
    with pytest.raises(ValueError, match="cannot have keys"):
        app.emit_many([(1, "part"), (2, "part", {"key": "k"})], then=(None, "done"))
    with pytest.raises(TypeError, match="then must be an"):
        app.emit_many([(1, "part")], then="done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown option 'key'"):
        app.emit_many([(1, "part")], then=(None, "done", {"key": "k"}))
    with pytest.raises(ValueError, match="invalid worker name"):
        app.emit_many([(1, "part")], then=(None, "bad name"))
    with pytest.raises(TypeError):
        app.emit_many([(object(), "part")], then=(None, "done"))
    assert app.messages() == []


def test_then_options_delay_and_priority(app: conveyor.App, seen: Seen) -> None:
    ids = app.emit_many([(1, "part")], then=(None, "done", {"delay": 3600, "priority": 5}))
    app.drain()
    (then,) = app.messages(worker="done")
    assert (then.state, then.priority, then.group) == ("scheduled", 5, ids)


def test_members_purged_while_queued_count_as_finished(app: conveyor.App, seen: Seen) -> None:
    ids = app.emit_many([(i, "part", {"delay": 3600}) for i in range(3)], then=(None, "done"))
    app.emit(9, "part", delay=3600)  # not in the group: purged too, counts for nothing
    assert app.purge("part") == 4
    (then,) = app.messages(worker="done")
    assert then.group == ids
    app.drain()
    assert [m.group for m in seen] == [ids]
    assert app.status()["part"].queued == 0
