"""Numbers at and past the edges: ids, limits, delays and times, from the caller and from the store."""

from __future__ import annotations

import math
import sqlite3
import warnings
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import conveyor
from conveyor._emitter import MAX_DELAY
from conveyor._stores import NewMessage, Settlement, Store, TraceRecord
from conveyor._stores._postgres import PostgresStore
from conveyor._stores._sqlite import SQLiteStore


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


# -- delays and times ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [MAX_DELAY + 1, 1e12, 1e300, math.inf, math.nan, -1, -math.inf, True, "5"])
def test_a_delay_past_the_bound_is_refused_and_nothing_written(app: conveyor.App, delay: Any) -> None:
    with pytest.raises(ValueError, match=r"delay must be seconds from 0 to 315,576,000 \(10 years\)"):
        app.emit("x", "w", delay=delay)
    assert app.messages() == [] and app.status()["w"].scheduled == 0


@pytest.mark.parametrize(
    "at",
    [
        datetime.now(UTC) + timedelta(days=3653),
        datetime.max.replace(tzinfo=UTC),
        datetime(9999, 1, 1, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
def test_an_at_past_the_bound_is_refused_and_nothing_written(app: conveyor.App, at: datetime) -> None:
    with pytest.raises(ValueError, match=r"at must be at most 10 years from now"):
        app.emit("x", "w", at=at)
    assert app.messages() == []


def test_the_bound_itself_is_accepted_and_readable(app: conveyor.App) -> None:
    first = app.emit("far", "w", delay=MAX_DELAY)
    second = app.emit("far", "w", at=datetime.now(UTC) + timedelta(days=3650))
    old = app.emit("past", "w", at=datetime.min.replace(tzinfo=UTC))
    assert [m.id for m in app.messages()] == [old, second, first]
    assert app.message(first).state == "scheduled"  # type: ignore[union-attr]
    assert app.drain() == 1


def test_incomplete_delay_has_the_same_bound(make_app) -> None:  # type: ignore[no-untyped-def]
    for bad in (MAX_DELAY + 1, math.inf, math.nan):
        with pytest.raises(ValueError, match="incomplete_delay must be seconds"):
            make_app(incomplete_delay=bad)


def write_times(store: Store, message_id: int, **columns: float) -> None:
    """Set a message's time columns as a hand edit or an older version might have left them."""
    write_columns(store, message_id, **columns)


def write_columns(store: Store, message_id: int, **columns: object) -> None:
    """Set a message's columns as a hand edit or an older version might have left them."""
    names = list(columns)
    if isinstance(store, PostgresStore):
        sets = ", ".join(f"{name} = %s" for name in names)
        with store._conn() as conn:
            conn.execute(
                f"UPDATE {store.schema}.messages SET {sets} WHERE id = %s", [*columns.values(), message_id]
            )
    else:
        assert isinstance(store, SQLiteStore)
        sets = ", ".join(f"{name} = ?" for name in names)
        with store._lock:
            store._db.execute(f"UPDATE messages SET {sets} WHERE id = ?", [*columns.values(), message_id])


STRANGE_TIMES = [1e12, 1e300, -1e12, -1e300, math.inf, -math.inf, math.nan, 253402300800.0, -62135596801.0]


@pytest.mark.parametrize("value", STRANGE_TIMES, ids=repr)
def test_every_read_survives_any_time_in_the_store(
    app: conveyor.App, store: Store, store_kind: str, value: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        queued = app.emit("odd", "w", delay=60)
        unknown = app.emit("odd", "nobody")
    if math.isnan(value) and store_kind != "postgres":
        # A named difference: SQLite stores NaN as NULL, which these NOT NULL columns refuse, so no
        # such row can exist there.
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            write_times(store, queued, run_at=value, enqueued_at=value)
        return
    write_times(store, queued, run_at=value, enqueued_at=value)
    write_times(store, unknown, run_at=value, enqueued_at=value)
    shown = app.messages()
    assert {m.id for m in shown} == {queued, unknown}
    for m in shown:
        assert m.run_at.tzinfo is not None and m.enqueued_at.tzinfo is not None
        assert (
            m.run_at in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
            or abs(m.run_at.timestamp() - value) < 1
        )
    assert app.message(queued) is not None
    assert len(app.messages("w", "scheduled")) + len(app.messages("w", "queued")) == 1
    assert app.status()["w"].queued + app.status()["w"].scheduled == 1
    (held,) = app.unknown()
    assert held.name == "nobody" and held.first_emit.tzinfo is not None
    assert app.cancel(queued) and app.purge("nobody") == 1


def test_every_read_survives_any_value_in_the_store(app: conveyor.App, store: Store, store_kind: str) -> None:
    """Columns written by hand with what no Conveyor writes: text that is not JSON, a number where
    text belongs (SQLite keeps any type in any column), a time that is text, NULL counts drift."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        bad_json = app.emit("x", "w", delay=60)
        held = app.emit("y", "nobody")
    write_columns(store, bad_json, event="{not json")
    write_columns(store, held, event="[" * 2000)
    if store_kind != "postgres":
        odd = app.emit("z", "w", delay=60)
        write_columns(store, odd, event=5, run_at="soon", enqueued_at=b"\x00")
    shown = {m.id: m for m in app.messages()}
    assert shown[bad_json].event == "{not json"
    assert shown[held].event == "[" * 2000
    if store_kind != "postgres":
        assert shown[odd].event == 5 and shown[odd].run_at.tzinfo is not None
    assert app.message(bad_json) is not None
    (unknown,) = app.unknown()
    assert unknown.sample_event == "[" * 2000
    assert app.status()["w"].queued + app.status()["w"].scheduled == len(shown) - 1


def test_traces_read_whatever_their_json_columns_hold(store: Store) -> None:
    (mid,) = store.enqueue([NewMessage("w", b"1")])
    (claimed,) = store.claim("r", {"w": None}, 10, 30.0)
    odd = TraceRecord(
        message_id=mid,
        worker="w",
        outcome="ok",
        event="{cut off",
        result="[" * 5000,
        error=None,
        traceback=None,
        logs=[],
        emitted=[],
        attempt=1,
        enqueued_at=math.inf,
        started_at=claimed.started_at,
        finished_at=1e300,
        keep=10,
    )
    store.settle("r", Settlement(complete=[mid], traces=[odd]))
    (trace,) = store.traces("w")
    assert (trace.event, trace.result) == ("{cut off", "[" * 5000)
    assert trace.enqueued_at == trace.finished_at == datetime.max.replace(tzinfo=UTC)
