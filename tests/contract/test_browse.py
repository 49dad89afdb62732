"""Browsing one worker's messages a page at a time (keyset) and searching them by key or event text:
``Store.browse``, the dashboard's read, on every store."""

from __future__ import annotations

import time
import warnings

import pytest

import conveyor
from conveyor._stores import Store


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app.pause("w")
    return app


def _emit(app: conveyor.App, event: object, **options: object) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return app.emit(event, "w", **options)  # type: ignore[arg-type]


def test_pages_follow_each_other_without_gaps_or_repeats(app: conveyor.App, store: Store) -> None:
    ids = [_emit(app, {"n": n}) for n in range(7)]
    _emit(app, {"n": "later"}, delay=3600)
    _emit(app, {"n": 7})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app.emit({"n": 0}, "elsewhere")
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = store.browse("w", "queued", after, text=None, limit=3, scan=4)
        assert len(page.messages) <= 3 and all(m.state == "queued" for m in page.messages)
        seen += [m.id for m in page.messages]
        assert all(m == app.message(m.id) for m in page.messages)  # every field, as a lookup reads it
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert len(seen) == 8 and seen[:7] == ids and pages == 3
    (later,) = store.browse("w", "scheduled", None, text=None, limit=10, scan=11).messages
    assert later.event == {"n": "later"} and later.state == "scheduled"
    assert store.browse("w", "running", None, text=None, limit=10, scan=11).messages == []


def test_search_by_key_or_event_text_scans_a_bounded_window(app: conveyor.App, store: Store) -> None:
    plain = [_emit(app, {"to": f"user{n}@example.com"}) for n in range(6)]
    keyed = _emit(app, {"to": "x"}, key="order-77")
    found = store.browse("w", "queued", None, text="user3@", limit=10, scan=100)
    assert [m.id for m in found.messages] == [plain[3]] and found.next is None
    assert [
        m.id for m in store.browse("w", "queued", None, text="order-77", limit=10, scan=100).messages
    ] == [keyed]
    assert store.browse("w", "queued", None, text="nobody", limit=10, scan=100).messages == []
    # A window of 2 messages: no hit in the first one, the cursor moves on past what it looked at.
    window = store.browse("w", "queued", None, text="user3@", limit=10, scan=2)
    assert window.messages == [] and window.scanned == 2 and window.next is not None
    rest = store.browse("w", "queued", window.next, text="user3@", limit=10, scan=2)
    assert [m.id for m in rest.messages] == [plain[3]]


def test_dead_letters_page_by_id(make_app, store: Store) -> None:  # type: ignore[no-untyped-def]
    app = make_app()

    @app.worker("w", max_attempts=1)
    def fail(event: object) -> None:
        raise ValueError("no")

    ids = [_emit(app, {"n": n}) for n in range(5)]
    app.drain()
    first = store.browse("w", "dead", None, text=None, limit=2, scan=3)
    assert [m.id for m in first.messages] == ids[:2] and first.next is not None
    second = store.browse("w", "dead", first.next, text=None, limit=2, scan=3)
    assert [m.id for m in second.messages] == ids[2:4]
    with pytest.raises(ValueError, match="state must be one of"):
        store.browse("w", "done", None, text=None, limit=2, scan=3)  # type: ignore[arg-type]


def test_stats_series_and_sums_add_up_in_the_store(store: Store) -> None:
    from conveyor._histogram import bucket
    from conveyor._stores._base import Settlement, StatsRow

    minute = int(time.time()) // 60 * 60 - 3600
    fast, slow = bucket(0.001), bucket(0.5)
    rows = [
        StatsRow("a", minute, processed=3, failed=1, wait={fast: 3}),
        StatsRow("b", minute, processed=2, wait={fast: 1, slow: 1}),
        StatsRow("a", minute + 60, processed=5, wait={slow: 5}),
        StatsRow("a", minute + 600, processed=7, failed=7),
    ]
    store.settle("r", Settlement(stats=rows))
    every = store.stats_series(None, minute, minute + 120, 60)
    assert sorted(every) == [minute, minute + 60]
    assert (every[minute].processed, every[minute].failed, every[minute].wait) == (5, 1, {fast: 4, slow: 1})
    assert (every[minute + 60].processed, every[minute + 60].wait) == (5, {slow: 5})
    tens = store.stats_series("a", minute, 2**62, 600)
    start = minute // 600 * 600
    assert sum(p.processed for p in tens.values()) == 15 and sum(p.failed for p in tens.values()) == 8
    assert tens[start].wait == {fast: 3, slow: 5} or start != minute // 600 * 600
    assert store.stats_series("nobody", minute, 2**62, 60) == {}
    sums = store.stats_sums(minute, minute + 600)
    assert sorted(sums) == sorted([(minute, "a", 3, 1), (minute, "b", 2, 0), (minute + 60, "a", 5, 0)])
