"""One message by id: ``app.message(id)`` in every state, and None once it is gone."""

from __future__ import annotations

import time
from typing import Any

import pytest

import conveyor


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    return app


def test_message_by_id_in_each_state(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(lease=30)
    seen: list[conveyor.Message | None] = []

    @app.worker("w", max_attempts=1)
    def handle(event: Any, msg: conveyor.Message) -> None:
        seen.append(app.message(msg.id))
        if event == "fail":
            raise RuntimeError("it broke")

    queued = app.emit({"n": 1}, "w", key="k-1")
    scheduled = app.emit("later", "w", delay=3600)
    failing = app.emit("fail", "w")

    m = app.message(queued)
    assert m is not None
    assert (m.id, m.worker, m.event, m.state, m.attempt, m.key, m.last_error) == (
        queued,
        "w",
        {"n": 1},
        "queued",
        0,
        "k-1",
        None,
    )
    assert m == app.messages("w", "queued")[0]
    s = app.message(scheduled)
    assert s is not None and s.state == "scheduled" and s.run_at.timestamp() > time.time() + 3500

    assert app.drain() == 2
    running = [x for x in seen if x is not None]
    assert [x.state for x in running] == ["running", "running"] and running[0].attempt == 1
    assert app.message(queued) is None  # finished: deleted
    dead = app.message(failing)
    assert dead is not None and dead.state == "dead" and dead.last_error is not None
    assert "it broke" in dead.last_error
    assert app.message(scheduled) is not None


def test_unknown_or_cancelled_ids_are_none(app: conveyor.App) -> None:
    mid = app.emit("x", "w")
    assert app.cancel(mid)
    assert app.message(mid) is None
    assert app.message(mid + 1000) is None
    assert app.message(2**63 - 1) is None


@pytest.mark.parametrize("bad", ["1", 1.0, None])
def test_message_id_must_be_an_int(app: conveyor.App, bad: Any) -> None:
    with pytest.raises(TypeError, match="a message id is an int"):
        app.message(bad)


@pytest.mark.parametrize("bad", [0, -1, True, 2**63, 2**64, -(2**63) - 1])
def test_message_id_out_of_range_is_a_clear_value_error(app: conveyor.App, bad: int) -> None:
    with pytest.raises(ValueError, match="a message id is an int from 1 to"):
        app.message(bad)
