"""Schedules on every store: input checks, exactly-once ticks, pause, misfire, DST, the live list.

Most tests drive the runner's ticker with a controlled clock (``Ticker.turn(now)``): the clock starts
after the store's own (real) time, since a schedule is known from the time it was first published.
Real runners and processes are in tests/integration/test_schedules_*.py.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import conveyor
from conveyor._runtime import Runner, RunnerOptions
from conveyor._runtime._ticker import Ticker
from conveyor._stores import Store, open_store

AppFactory = Callable[..., conveyor.App]


def ticker(app: conveyor.App, runner: str = "r1", store: Store | None = None) -> Ticker:
    return Ticker(app.registry.schedules, store or app.store, runner)


def begin(app: conveyor.App, *tickers: Ticker, every: float) -> float:
    """Publish (the schedule is known from the store's time then); return its first tick after that."""
    for t in tickers:
        t.turn(time.time())
    since = max(s.since for s in app.store.schedule_states())
    return (math.floor(since / every) + 1) * every


def keys(app: conveyor.App, worker: str = "w") -> list[str]:
    return sorted((m.key or "" for m in app.messages(worker, limit=10_000)), key=_tick_of)


def _tick_of(key: str) -> float:
    return float(key.rsplit(":", 1)[1])


def ticks_of(app: conveyor.App, worker: str = "w") -> list[float]:
    return [_tick_of(k) for k in keys(app, worker)]


# -- input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "options", "words"),
    [
        (("s", "w"), {}, "exactly one of cron= and every="),
        (("s", "w"), {"cron": "* * * * *", "every": 5}, "exactly one of cron= and every="),
        (("s", "w"), {"cron": "61 * * * *"}, "invalid cron"),
        (("s", "w"), {"cron": "* * * *"}, "5 fields"),
        (("s", "w"), {"cron": "* * * * * *"}, "5 fields"),
        (("s", "w"), {"cron": "@fortnightly"}, "aliases"),
        (("s", "w"), {"cron": 5}, "cron must be a str"),
        (("s", "w"), {"every": 0.5}, "every must be seconds >= 1"),
        (("s", "w"), {"every": float("nan")}, "every must be seconds >= 1"),
        (("s", "w"), {"every": True}, "every must be seconds >= 1"),
        (("s", "w"), {"every": "5"}, "every must be seconds >= 1"),
        (("s", "w"), {"every": 5, "tz": "Mars/Olympus"}, "unknown time zone"),
        (("s", "w"), {"every": 5, "tz": ""}, "tz must be a time zone name"),
        (("s", "w"), {"every": 5, "misfire": "never"}, "misfire must be one of latest, all, skip"),
        (("bad name", "w"), {"every": 5}, "invalid schedule name"),
        (("", "w"), {"every": 5}, "invalid schedule name"),
        (("s", "-w"), {"every": 5}, "invalid worker name"),
    ],
)
def test_bad_input_is_a_clear_value_error(
    app: conveyor.App, args: tuple[Any, ...], options: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        app.schedule(*args, **options)
    assert app.schedules() == []


def test_an_event_emit_would_refuse_is_refused_at_schedule(app: conveyor.App) -> None:
    with pytest.raises(TypeError, match="not JSON-encodable"):
        app.schedule("s", "w", {"x": object()}, every=5)
    with pytest.raises(ValueError, match="bytes"):
        app.schedule("s", "w", "x" * (app.max_event_bytes + 1), every=5)
    assert app.schedules() == []


def test_a_duplicate_schedule_name_is_a_value_error(app: conveyor.App) -> None:
    app.schedule("s", "w", every=5)
    with pytest.raises(ValueError, match="already defined"):
        app.schedule("s", "other", cron="@daily")
    assert [s.worker for s in app.schedules()] == ["w"]


def test_pause_and_resume_of_unknown_or_invalid_names(app: conveyor.App) -> None:
    with pytest.raises(LookupError, match="no schedule named 'nope'"):
        app.pause_schedule("nope")
    with pytest.raises(LookupError):
        app.resume_schedule("nope")
    with pytest.raises(ValueError, match="invalid schedule name"):
        app.pause_schedule("no such/ name")


# -- the list ----------------------------------------------------------------------------------------
def test_schedules_lists_definitions_sorted_with_next_run(app: conveyor.App) -> None:
    app.schedule("nightly", "report", cron="0 3 * * *", tz="Europe/Paris", misfire="skip")
    app.schedule("beat", "w", every=60)
    before = time.time()
    beat, nightly = app.schedules()
    assert isinstance(beat, conveyor.ScheduleStatus)
    assert (beat.name, beat.worker, beat.cron, beat.every, beat.tz, beat.misfire, beat.paused) == (
        "beat",
        "w",
        None,
        60.0,
        "UTC",
        "latest",
        False,
    )
    assert beat.last_at is None and beat.next_at is not None
    assert beat.next_at.tzinfo is not None and beat.next_at.utcoffset() is not None
    assert beat.next_at.timestamp() % 60 == 0 and 0 < beat.next_at.timestamp() - before <= 60
    assert (nightly.cron, nightly.tz, nightly.misfire) == ("0 3 * * *", "Europe/Paris", "skip")
    assert nightly.next_at is not None
    local = nightly.next_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (3, 0)
    app.pause_schedule("beat")
    paused = app.schedules()[0]
    assert paused.paused and paused.next_at is None


def test_schedules_of_live_runners_are_listed_and_leave_with_them(make_app: AppFactory) -> None:
    code = make_app()
    code.schedule("a", "w", every=60)
    code.schedule("b", "w", every=60)
    newer = make_app()  # the next version of the code: "b" was removed
    newer.schedule("a", "w", every=60)
    admin = make_app()  # defines no schedule, as `conveyor schedules` or the web face
    assert admin.schedules() == []
    old_runner = ticker(code, "old")
    old_runner.turn(time.time())
    assert [s.name for s in admin.schedules()] == ["a", "b"]
    assert [s.name for s in newer.schedules()] == ["a", "b"]
    admin.pause_schedule("b")  # a live runner defines it
    assert [s.paused for s in admin.schedules()] == [False, True]
    new_runner = ticker(newer, "new")
    new_runner.turn(time.time())
    old_runner.stop()
    old_runner.store.unpublish_schedules("old")  # what stop() does once run() had started
    assert [s.name for s in admin.schedules()] == ["a"]
    assert [s.name for s in newer.schedules()] == ["a"]
    with pytest.raises(LookupError):
        admin.pause_schedule("b")


def test_schedules_of_a_killed_runner_leave_once_it_is_unseen_for_the_runner_ttl(
    make_app: AppFactory, store: Store
) -> None:
    killed, alive = make_app(), make_app()
    killed.schedule("gone", "w", every=60)
    alive.schedule("kept", "w", every=60)
    store.runner_ttl = 0.5  # type: ignore[attr-defined]  # the default is 30 s
    ticker(killed, "killed").turn(time.time())  # it publishes once, and never again (no stop: kill -9)
    alive_ticker = ticker(alive, "alive")
    alive_ticker.turn(time.time())
    assert [s.name for s in make_app().schedules()] == ["gone", "kept"]
    time.sleep(0.6)
    alive_ticker.turn(time.time() + 10)  # its next publication (every 10 s) also forgets stale runners
    assert [s.name for s in make_app().schedules()] == ["kept"]


# -- ticking -------------------------------------------------------------------------------------------
def test_each_tick_emits_one_message_with_the_contract_key_and_event(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=10)
    app.schedule("custom", "c", {"report": "daily"}, every=10)
    t = ticker(app)
    start = begin(app, t, every=10)
    assert app.messages() == []
    assert t.next_tick == start
    for k in range(3):
        t.turn(start + 10 * k + 0.01)
    assert keys(app) == [f"schedule:beat:{int(start + 10 * k)}" for k in range(3)]
    first = app.messages("w")[0]
    at = datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z")
    assert first.event == {"schedule": "beat", "at": at}
    assert [m.event for m in app.messages("c")] == [{"report": "daily"}] * 3
    (beat, _custom) = sorted(app.schedules(), key=lambda s: s.name)
    assert beat.last_at == datetime.fromtimestamp(start + 20, UTC)


def test_two_tickers_racing_emit_each_tick_exactly_once(store_url: str, store: Store) -> None:
    """Two runners' tickers (on two connections to the store where it has them) turn at the same
    instants, from two threads, for 30 ticks."""
    other = store if store_url.endswith(":memory:") else open_store(store_url)
    apps = [conveyor.App(store), conveyor.App(other)]
    for app in apps:
        app.schedule("beat", "w", every=1)
    tickers = [ticker(apps[0], "one"), ticker(apps[1], "two", other)]
    start = begin(apps[0], *tickers, every=1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def race(t: Ticker) -> None:
        try:
            for k in range(30):
                barrier.wait(10)
                t.turn(start + k + 0.001)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=race, args=(t,)) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert ticks_of(apps[0]) == [start + k for k in range(30)]
    assert sum(t.emitted for t in tickers) == 30
    if other is not store:
        other.close()


def test_a_tick_the_store_failed_is_emitted_at_the_next_look(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=10, misfire="skip")
    t = ticker(app)
    start = begin(app, t, every=10)
    real = app.store.emit_ticks
    failures = [ConnectionError("the store went away")]

    def flaky(*args: Any) -> list[int]:
        if failures:
            raise failures.pop()
        return real(*args)

    t.store = _Proxy(app.store, emit_ticks=flaky)
    with pytest.raises(ConnectionError):
        t.turn(start + 0.01)
    t.turn(start + 0.5)  # the runner's retry, within the tick's grace
    assert ticks_of(app) == [start]


class _Proxy:
    def __init__(self, target: Any, **overrides: Any) -> None:
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def test_a_tick_that_fell_due_while_a_ticker_watched_is_on_time_however_late(app: conveyor.App) -> None:
    """``skip`` drops only ticks that fell due before a ticker watched: a busy host's late turn emits."""
    app.schedule("beat", "w", every=10, misfire="skip")
    t = ticker(app)
    start = begin(app, t, every=10)
    t.turn(start + 4)  # four seconds late
    t.turn(start + 10 + 9.9)
    assert ticks_of(app) == [start, start + 10]
    late = ticker(app, "late")  # a runner that starts after a tick: that tick was missed
    late.turn(start + 20 + 0.2)
    late.turn(start + 30 + 0.01)
    assert ticks_of(app) == [start, start + 10, start + 30]


def test_a_paused_schedule_emits_nothing(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=10, misfire="skip")
    t = ticker(app)
    start = begin(app, t, every=10)
    t.turn(start + 0.01)
    app.pause_schedule("beat")
    for k in range(1, 6):
        t.turn(start + 10 * k + 0.01)
    assert ticks_of(app) == [start]
    (status,) = app.schedules()
    assert status.paused and status.next_at is None
    app.resume_schedule("beat")
    t.turn(start + 45)  # the ticker sees the resume: the paused ticks were missed (skipped)
    t.turn(start + 50 + 0.01)
    t.turn(start + 60 + 0.01)
    assert ticks_of(app) == [start, start + 50, start + 60]
    assert not app.schedules()[0].paused


@pytest.mark.parametrize(
    ("misfire", "emitted"),
    [("latest", [5]), ("all", [1, 2, 3, 4, 5]), ("skip", [])],
)
def test_misfire_after_a_five_tick_outage(make_app: AppFactory, misfire: str, emitted: list[int]) -> None:
    """One runner ticks, stops; five ticks pass with no runner up; another runner starts half a
    period after the fifth."""
    every = 10
    before = make_app()
    before.schedule("beat", "w", every=every, misfire=misfire)
    first = ticker(before, "before")
    start = begin(before, first, every=every)
    first.turn(start + 0.01)
    first.stop()
    after = make_app()
    after.schedule("beat", "w", every=every, misfire=misfire)
    second = ticker(after, "after")
    second.turn(start + 5 * every + every / 2)
    second.turn(start + 6 * every + 0.01)  # and the next tick is on time as usual
    assert ticks_of(after) == [start] + [start + k * every for k in emitted] + [start + 6 * every]


@pytest.mark.parametrize(("misfire", "emitted"), [("latest", [3]), ("all", [1, 2, 3]), ("skip", [])])
def test_resume_follows_the_misfire_policy(app: conveyor.App, misfire: str, emitted: list[int]) -> None:
    app.schedule("beat", "w", every=10, misfire=misfire)
    t = ticker(app)
    start = begin(app, t, every=10)
    t.turn(start + 0.01)
    app.pause_schedule("beat")
    for k in (1, 2, 3):
        t.turn(start + 10 * k + 0.01)
    app.resume_schedule("beat")
    t.turn(start + 35)
    assert ticks_of(app) == [start] + [start + 10 * k for k in emitted]


def test_misfire_all_emits_at_most_1000_ticks_oldest_first(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=1, misfire="all")
    t = ticker(app)
    start = begin(app, t, every=1)
    t.turn(start + 0.01)
    t.turn(start + 1500.5)  # 1,500 ticks missed
    ticks = ticks_of(app)
    assert len(ticks) == 1 + 1000
    assert ticks[1:] == [start + k for k in range(501, 1501)]
    ids = [m.id for m in sorted(app.messages("w", limit=2000), key=lambda m: _tick_of(m.key or ""))]
    assert ids == sorted(ids)  # emitted oldest first


def test_a_new_schedule_misses_nothing_before_it_was_first_published(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=1, misfire="all")
    ticker(app).turn(time.time() + 0.2)
    assert len(app.messages()) <= 1  # at most the tick of this very second


def test_drain_does_not_tick(app: conveyor.App) -> None:
    seen: list[Any] = []
    app.worker("w")(seen.append)
    app.schedule("beat", "w", every=1)
    app.drain(timeout=30)
    time.sleep(1.1)
    app.drain(timeout=30)
    assert seen == [] and app.messages() == []


# -- time zones ----------------------------------------------------------------------------------------
def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _tick_through(app: conveyor.App, t: Ticker, until: float) -> None:
    """Turn at every tick up to ``until``, as the runner's sleep would."""
    while True:
        due = t.next_tick
        assert due is not None
        if due > until:
            return
        t.turn(due + 0.01)


DST = [
    # Europe/Paris springs forward 2027-03-28 02:00 -> 03:00: 02:30 does not exist, it fires at 03:00.
    ("Europe/Paris", "30 2 * * *", "2027-03-26", "2027-03-30",
     ["2027-03-26T01:30", "2027-03-27T01:30", "2027-03-28T01:00", "2027-03-29T00:30"]),
    # ... and falls back 2027-10-31 03:00 -> 02:00: 02:30 happens twice, it fires once (the first).
    ("Europe/Paris", "30 2 * * *", "2027-10-29", "2027-11-02",
     ["2027-10-29T00:30", "2027-10-30T00:30", "2027-10-31T00:30", "2027-11-01T01:30"]),
    ("Europe/Paris", "*/30 * * * *", "2027-10-30T23:10", "2027-10-31T02:10",
     ["2027-10-30T23:30", "2027-10-31T00:00", "2027-10-31T00:30", "2027-10-31T02:00"]),
    # America/New_York springs forward 2027-03-14 02:00 -> 03:00 and falls back 2027-11-07 02:00 -> 01:00.
    ("America/New_York", "15 2 * * *", "2027-03-12T12:00", "2027-03-16",
     ["2027-03-13T07:15", "2027-03-14T07:00", "2027-03-15T06:15"]),
    ("America/New_York", "30 1 * * *", "2027-11-05T12:00", "2027-11-09",
     ["2027-11-06T05:30", "2027-11-07T05:30", "2027-11-08T06:30"]),
    ("America/New_York", "0 * * * *", "2027-11-07T04:30", "2027-11-07T08:30",
     ["2027-11-07T05:00", "2027-11-07T07:00", "2027-11-07T08:00"]),
]  # fmt: skip


@pytest.mark.parametrize("case", DST, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in DST])
def test_cron_across_dst_transitions_with_a_controlled_clock(
    app: conveyor.App, case: tuple[str, str, str, str, list[str]]
) -> None:
    tz, cron, since, until, expected = case
    app.schedule("local", "w", cron=cron, tz=tz, misfire="skip")
    t = ticker(app)
    t.turn(_utc(since))  # the ticks between the real time and the window are missed: skipped
    _tick_through(app, t, _utc(until))
    assert ticks_of(app) == [_utc(e) for e in expected]


# -- a real runner ---------------------------------------------------------------------------------------
class Serving:
    """Runners serving in threads (as `conveyor run` serves them)."""

    def __init__(self) -> None:
        self._stops: list[tuple[Callable[[], object], threading.Thread]] = []

    def serve(self, app: conveyor.App) -> Runner:
        runner = Runner(app.registry, app.store, app.emitter, RunnerOptions(slots=4))
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        def main() -> None:
            loop.run_until_complete(runner.serve(stop, grace=5))
            left = asyncio.all_tasks(loop)
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.close()

        thread = threading.Thread(target=main, name="schedule-test-runner")
        thread.start()
        self._stops.append((lambda: loop.call_soon_threadsafe(stop.set), thread))
        return runner

    def stop(self) -> None:
        for stop, _ in self._stops:
            stop()
        for _, thread in self._stops:
            thread.join(30)
        self._stops.clear()


@pytest.fixture
def serving() -> Iterator[Serving]:
    runners = Serving()
    yield runners
    runners.stop()


def test_serving_runners_tick_every_second_once_and_sign_off(make_app: AppFactory, serving: Serving) -> None:
    handled: list[tuple[str, float]] = []
    apps = [make_app(), make_app()]
    for app in apps:
        app.worker("w")(lambda event, msg: handled.append((msg.key, time.time())))
        app.schedule("beat", "w", every=1)
    for app in apps:
        serving.serve(app)
    deadline = time.time() + 3.6
    while time.time() < deadline:
        time.sleep(0.05)
    names = [s.name for s in make_app().schedules()]
    assert names == ["beat"]
    time.sleep(0.5)
    ticks = sorted(_tick_of(key) for key, _ in handled)
    assert len(ticks) >= 3
    assert ticks == [ticks[0] + k for k in range(len(ticks))]  # every second, none twice
    late = [at - _tick_of(key) for key, at in handled]
    assert max(late) < 1.0  # punctual (the figures are in bench/schedules.py)
    serving.stop()
    assert make_app().schedules() == []  # no live runner defines it any more
