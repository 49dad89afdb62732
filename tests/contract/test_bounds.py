"""Numbers at and past the edges: ids, limits, delays and times, from the caller and from the store."""

from __future__ import annotations

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


HUGE = pytest.param(10**5000, id="10**5000")
OUT_OF_RANGE_IDS = [0, -1, -(2**63), 2**63, 2**64, 10**30, HUGE, True, False]


@pytest.mark.parametrize("bad", OUT_OF_RANGE_IDS)
def test_out_of_range_ids_are_a_clear_value_error(app: conveyor.App, bad: int) -> None:
    mid = app.emit("x", "w")
    for call in (
        lambda: app.cancel(bad),
        lambda: app.message(bad),
        lambda: app.retry_dead(id=bad),
        lambda: app.discard_dead(id=bad),
    ):
        with pytest.raises(ValueError, match=r"a message id is an int from 1 to 9223372036854775807, not"):
            call()
    assert [m.id for m in app.messages()] == [mid]


def test_the_largest_id_is_accepted_and_simply_not_found(app: conveyor.App) -> None:
    top = 2**63 - 1
    assert app.cancel(top) is False
    assert app.message(top) is None
    assert app.retry_dead(id=top) == 0
    assert app.discard_dead(id=top) == 0


@pytest.mark.parametrize("bad", [0, -5, 2**63, 10**20, HUGE, True, 1.5, "10"])
def test_out_of_range_limits_are_a_clear_value_error(app: conveyor.App, bad: Any) -> None:
    with pytest.raises(ValueError, match="limit must be an int from 1 to 9223372036854775807"):
        app.messages(limit=bad)


def test_the_largest_limit_is_accepted(app: conveyor.App) -> None:
    app.emit("x", "w")
    assert len(app.messages(limit=2**63 - 1)) == 1
    assert len(app.messages("w", "queued", limit=2**63 - 1)) == 1
