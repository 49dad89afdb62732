"""Global rate limits (docs/flow-control.md): enforced by the store's claim, on both stores."""

from __future__ import annotations

import time
from typing import Any

import pytest

import conveyor
from conveyor._rates import Rate, parse_rate
from conveyor._stores import NewMessage, Settlement, Store

PER_MINUTE_5 = {"w": Rate(5, 60.0)}


def _queue(store: Store, n: int, worker: str = "w", **options: Any) -> list[int]:
    return store.enqueue([NewMessage(worker, b"{}", **options) for _ in range(n)])


def test_a_claim_starts_no_more_than_the_burst_and_the_rest_stay_queued_with_no_attempt(
    store: Store, make_app: Any
) -> None:
    ids = _queue(store, 12)
    first = store.claim("r", {"w": None}, 100, 30.0, rates=PER_MINUTE_5)
    assert [c.id for c in first] == ids[:5]
    assert store.claim("r", {"w": None}, 100, 30.0, rates=PER_MINUTE_5) == []
    assert store.claim("other-host", {"w": None}, 100, 30.0, rates=PER_MINUTE_5) == []
    app = make_app()
    waiting = app.messages("w", state="queued")
    assert [m.id for m in waiting] == ids[5:]
    assert {m.attempt for m in waiting} == {0}
    (bucket,) = store.rate_states()
    assert (bucket.worker, bucket.n, bucket.period) == ("w", 5, 60.0)
    assert 11.0 < bucket.wait <= 12.0  # the next start: one interval (12 s) after the burst
    wait = store.rate_wait(["w"])
    assert wait is not None and 11.0 < wait <= 12.0
    # Without its rate the same worker is claimed in full: the limit lives in the claim, not the rows.
    assert len(store.claim("r", {"w": None}, 100, 30.0)) == 7


def test_starts_are_paced_one_interval_apart_after_the_burst(store: Store) -> None:
    _queue(store, 30)
    rates = {"w": Rate(10, 1.0)}
    before_burst = time.time()
    assert len(store.claim("r", {"w": None}, 100, 30.0, rates=rates)) == 10
    after_burst = time.time()
    assert store.claim("r", {"w": None}, 100, 30.0, rates=rates) == []
    time.sleep(0.25)  # about 2.5 intervals: one start per whole interval since the burst
    before = time.time()
    got = len(store.claim("r", {"w": None}, 100, 30.0, rates=rates))
    after = time.time()
    assert int((before - after_burst) / 0.1) <= got <= int((after - before_burst) / 0.1) + 1e-9
    assert 2 <= got <= 4
    time.sleep(1.1)  # an idle bucket refills to the burst, no more
    assert len(store.claim("r", {"w": None}, 100, 30.0, rates=rates)) == 10


def test_rate_and_concurrency_cap_hold_together(store: Store) -> None:
    _queue(store, 10)
    claimed = []
    for expected in (2, 2, 1, 0):  # the cap (2) binds, then the bucket (5 a minute) is spent
        got = store.claim("r", {"w": 2}, 100, 30.0, rates=PER_MINUTE_5)
        assert len(got) == expected
        assert store.claim("r", {"w": 2}, 100, 30.0, rates=PER_MINUTE_5) == []
        store.settle("r", Settlement(complete=[c.id for c in got]))
        claimed += got
    assert len(claimed) == 5


def test_a_rate_limited_worker_claims_its_highest_priorities_first(store: Store) -> None:
    low = _queue(store, 3, priority=-100)
    plain = _queue(store, 3)
    high = _queue(store, 3, priority=100)
    got = store.claim("r", {"w": None}, 100, 30.0, rates={"w": Rate(4, 60.0)})
    assert [c.id for c in got] == [*high, plain[0]]
    assert low  # untouched: still queued


def test_paused_blocked_and_other_workers_are_not_held_by_a_rate(store: Store, make_app: Any) -> None:
    _queue(store, 3)
    _queue(store, 3, worker="free")
    app = make_app()
    app.pause("w")
    got = store.claim("r", {"w": None, "free": None}, 100, 30.0, rates=PER_MINUTE_5)
    assert {c.worker for c in got} == {"free"} and len(got) == 3
    assert store.rate_states() == []  # a paused worker's bucket is not touched
    assert store.rate_wait(["w", "free"]) is None
    app.resume("w")
    app.block("w", "upstream down")
    assert store.claim("r", {"w": None}, 100, 30.0, rates=PER_MINUTE_5) == []
    assert store.rate_states() == [] and store.rate_wait(["w"]) is None
    app.unblock("w")
    assert len(store.claim("r", {"w": None}, 100, 30.0, rates=PER_MINUTE_5)) == 3


def test_drain_waits_for_messages_a_rate_holds_back(make_app: Any) -> None:
    app = make_app()
    starts: list[float] = []

    @app.worker("w", rate="20/s")
    def handle(event: Any) -> None:
        starts.append(time.monotonic())

    app.emit_many([({"i": i}, "w") for i in range(30)])
    began = time.monotonic()
    assert app.drain(timeout=10) == 30
    assert 0.45 <= time.monotonic() - began < 3.0  # 20 at once, then 10 at 50 ms apart
    assert starts[19] - starts[0] < 0.3
    # After the burst, start 20 + k can begin no sooner than k + 1 intervals after the burst's claim.
    assert all(starts[20 + k] - began >= (k + 1) * 0.05 - 0.002 for k in range(10))


def test_status_shows_the_rate_and_whether_it_holds_messages_back(make_app: Any) -> None:
    app = make_app()

    @app.worker("w", rate=(3, 3600))
    def handle(event: Any) -> None:
        pass

    @app.worker("plain")
    def plain(event: Any) -> None:
        pass

    status = app.status()
    assert (status["w"].rate, status["w"].rate_limited) == ("3/h", False)
    assert (status["plain"].rate, status["plain"].rate_limited) == (None, False)
    app.emit_many([({"i": i}, "w") for i in range(5)])
    runner = app.runner()
    claimed = runner.store.claim(runner.id, {"w": None}, 10, 30.0, rates=app.registry.rates())
    assert len(claimed) == 3
    status = app.status()["w"]
    assert (status.rate, status.rate_limited, status.queued, status.running) == ("3/h", True, 2, 3)


@pytest.mark.parametrize(
    ("rate", "says"),
    [
        ("0/s", "from 1"),
        ("10/x", "N/s"),
        ("-5/m", "N/s"),
        ("1.5/s", "N/s"),
        ("", "N/s"),
        ((1.5, 1), "an int"),
        ((0, 1), "from 1"),
        ((True, 1), "an int"),
        ((5, 0), "seconds > 0"),
        ((5, -1), "seconds > 0"),
        ((5, float("nan")), "seconds > 0"),
        ((5, 10**9), "seconds > 0"),
        ((5, 1, 2), "N/s"),
        (10, "N/s"),
    ],
)
def test_a_bad_rate_is_one_clear_error_at_the_worker_definition(rate: Any, says: str) -> None:
    app = conveyor.App("sqlite:///:memory:")
    with pytest.raises(ValueError, match=says):
        app.worker("w", rate=rate)
    assert "w" not in app.registry


def test_rates_read_as_documented() -> None:
    assert parse_rate("100/m") == Rate(100, 60.0)
    assert parse_rate(" 7 / d ") == Rate(7, 86400.0)
    assert parse_rate((3, 2.5)) == Rate(3, 2.5)
    assert [str(parse_rate(r)) for r in ("1/s", "2/m", "3/h", "4/d", (5, 2.5))] == [
        "1/s",
        "2/m",
        "3/h",
        "4/d",
        "5/2.5s",
    ]
