"""Emitting: ids, times, delay/at, dedup keys, emit_many, and bad input that changes nothing."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest

import conveyor


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    return app


def nothing_stored(app: conveyor.App) -> bool:
    return app.messages() == [] and all(
        s.queued == s.scheduled == s.running == s.dead == 0 for s in app.status().values()
    )


def test_emit_returns_id_and_message_is_queued(app: conveyor.App) -> None:
    before = datetime.now(UTC)
    first = app.emit({"n": 1}, "w")
    second = app.emit([1, "two", None, True, 2.5], "w")
    assert isinstance(first, int) and second > first
    messages = app.messages()
    assert [m.id for m in messages] == [first, second]
    m = messages[0]
    assert (m.worker, m.event, m.state, m.attempt, m.parent_id, m.root_id, m.key, m.last_error) == (
        "w",
        {"n": 1},
        "queued",
        0,
        None,
        None,
        None,
        None,
    )
    assert m.enqueued_at.tzinfo is not None and before - timedelta(
        seconds=1
    ) <= m.enqueued_at <= datetime.now(UTC)
    assert messages[1].event == [1, "two", None, True, 2.5]
    assert app.status()["w"].queued == 2


def test_delay_and_at_schedule_for_later(app: conveyor.App) -> None:
    later = app.emit("later", "w", delay=60)
    at = datetime.now(UTC) + timedelta(hours=1)
    at_id = app.emit("at", "w", at=at)
    scheduled = {m.id: m for m in app.messages(state="scheduled")}
    assert set(scheduled) == {later, at_id}
    assert abs((scheduled[at_id].run_at - at).total_seconds()) < 1
    assert 55 < (scheduled[later].run_at - datetime.now(UTC)).total_seconds() <= 60
    assert app.status()["w"].scheduled == 2
    assert app.drain() == 0  # not due: drain leaves them
    assert len(app.messages(state="scheduled")) == 2


def test_at_in_the_past_runs_now(app: conveyor.App) -> None:
    app.emit("x", "w", at=datetime.now(UTC) - timedelta(days=1))
    assert app.drain() == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"delay": -1}, "delay must be seconds from 0 to"),
        ({"delay": 1, "at": datetime.now(UTC)}, "give delay= or at=, not both"),
        ({"at": datetime(2030, 1, 1)}, "at must be a timezone-aware datetime"),
        ({"key": ""}, "key must be a non-empty str"),
    ],
)
def test_bad_scheduling_options_are_refused(
    app: conveyor.App, options: dict[str, object], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        app.emit("x", "w", **options)  # type: ignore[arg-type]
    assert nothing_stored(app)


def test_key_dedups_while_queued_or_running(app: conveyor.App) -> None:
    first = app.emit({"n": 1}, "w", key="order-7")
    assert app.emit({"n": 2}, "w", key="order-7") == first
    assert len(app.messages()) == 1 and app.messages()[0].event == {"n": 1}
    other = app.emit({"n": 3}, "w", key="order-8")
    assert other != first
    assert app.drain() == 2
    again = app.emit({"n": 4}, "w", key="order-7")  # the first one finished: the key is free
    assert again not in (first, other)


def test_keys_are_per_worker(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    ran: list[tuple[str, object]] = []
    for name in ("inv", "other"):
        app.worker(name)(lambda event, name=name: ran.append((name, event)))
    inv = app.emit({"n": 1}, "inv", key="invoice-7")
    other = app.emit({"n": 2}, "other", key="invoice-7")
    assert other != inv
    assert app.emit({"n": 3}, "other", key="invoice-7") == other  # within one worker it still dedups
    assert app.emit({"n": 4}, "inv", key="invoice-7") == inv
    assert {(m.worker, m.event["n"], m.key) for m in app.messages()} == {
        ("inv", 1, "invoice-7"),
        ("other", 2, "invoice-7"),
    }
    assert app.drain() == 2
    assert sorted(ran) == [("inv", {"n": 1}), ("other", {"n": 2})]


def test_emit_many_is_one_transaction(app: conveyor.App) -> None:
    ids = app.emit_many([({"i": i}, "w") for i in range(5)])
    assert len(ids) == 5 and ids == sorted(ids)
    assert [m.event["i"] for m in app.messages()] == list(range(5))
    with pytest.raises(TypeError, match=r"event\['bad'\]: set is not JSON-encodable"):
        app.emit_many([({"i": 9}, "w"), ({"bad": {1}}, "w")])
    assert len(app.messages()) == 5  # the good first item was not written either
    assert app.emit_many([]) == []


def test_non_json_event_names_path_and_type(app: conveyor.App) -> None:
    with pytest.raises(TypeError) as info:
        app.emit({"user": {"tags": {"a", "b"}}}, "w")
    assert str(info.value) == "event['user']['tags']: set is not JSON-encodable"
    assert nothing_stored(app)


def test_event_over_size_limit_gives_both_sizes(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_event_bytes=100)
    with pytest.raises(ValueError, match=r"event is 202 bytes as JSON, over the limit of 100 bytes"):
        app.emit("x" * 200, "w")
    assert nothing_stored(app)


@pytest.mark.parametrize("name", ["", "-starts-with-dash", "has space", "x" * 201, "émoji", "a\nb", 42, None])
def test_invalid_worker_name_says_the_rule(app: conveyor.App, name: object) -> None:
    with pytest.raises(
        ValueError, match=r"a worker name is 1-200 characters of letters, digits and _ \. : / -"
    ):
        app.emit("x", name)  # type: ignore[arg-type]
    assert nothing_stored(app)


@pytest.mark.parametrize("name", ["a", "A1", "send-email", "billing.invoices:v2/eu_west", "9" * 200])
def test_valid_worker_names(app: conveyor.App, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        assert app.emit("x", name) > 0


def test_emit_to_unknown_worker_warns_and_holds(app: conveyor.App) -> None:
    with pytest.warns(conveyor.UnknownWorkerWarning, match="no worker named 'ghost'"):
        app.emit({"boo": 1}, "ghost")
    assert app.status()["ghost"].unknown is True
    assert app.status()["w"].unknown is False


def test_conn_is_postgresql_only(app: conveyor.App, store_kind: str) -> None:
    """Named difference: emit(conn=...) joins a caller's PostgreSQL transaction; SQLite refuses it.

    Either way an object that is no connection is refused and nothing is written
    (tests/integration/test_postgres_* show the transactional emit itself).
    """
    with pytest.raises((ValueError, TypeError)) as info:
        app.emit("x", "w", conn=object())
    if store_kind.startswith("sqlite"):
        assert "PostgreSQL" in str(info.value)
    assert nothing_stored(app)


def test_ids_are_never_reused(app: conveyor.App) -> None:
    seen = [app.emit(0, "w")]
    app.drain()  # the newest message is deleted once done
    seen.append(app.emit(1, "w"))
    assert app.cancel(seen[-1])
    seen.append(app.emit(2, "w"))
    assert app.purge("w") == 1
    seen.append(app.emit_many([(3, "w"), (4, "w")])[-1])
    assert seen == sorted(set(seen))
