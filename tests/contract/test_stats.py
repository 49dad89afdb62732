"""Per-minute stats (docs/reference.md#runners-and-stats): gathered by runners, added to the store with
their settles, merged across runners, read back with percentiles, pruned. Every store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

import conveyor
from conveyor._runtime._stats import DEAD, FAILED, KEEP, RETRIED, StatsPruner, StatsTally
from conveyor._stores import Settlement, Store, open_store

AppFactory = Callable[..., conveyor.App]
ERROR = 1.1  # a percentile read from the histogram is within 9 % of the true value


def close_to(value: float | None, expected: float) -> bool:
    return value is not None and expected / ERROR <= value <= expected * ERROR


def totals(buckets: list[conveyor.StatsBucket], worker: str | None) -> dict[str, int]:
    """The counts of ``worker`` summed over the minutes (a test may straddle a minute's end)."""
    mine = [b for b in buckets if b.worker == worker]
    return {k: sum(getattr(b, k) for b in mine) for k in ("processed", "failed", "retried", "dead")}


def flush(store: Store, runner: str, tally: StatsTally) -> None:
    store.settle(runner, Settlement(stats=tally.take(time.monotonic())))


def test_a_drain_counts_runs_failures_retries_and_dead_letters(app: conveyor.App) -> None:
    @app.worker("ok")
    def ok(event: Any) -> None:
        pass

    @app.worker("flaky", max_attempts=2, backoff=0)
    def flaky(event: Any, msg: conveyor.Message) -> None:
        if msg.attempt == 1:
            raise RuntimeError("first attempt fails")

    @app.worker("broken", max_attempts=2, backoff=0)
    def broken(event: Any) -> None:
        raise RuntimeError("always")

    @app.worker("control", max_attempts=3)
    def control(event: Any, msg: conveyor.Message) -> None:
        if event == "cancel":
            raise conveyor.Cancel("no")
        if event == "retry" and msg.attempt == 1:
            raise conveyor.Retry(delay=0)
        if event == "later" and msg.snoozes == 0:
            raise conveyor.Incomplete(delay=0)

    app.emit_many([({}, "ok")] * 5 + [({}, "flaky")] * 3 + [({}, "broken")] * 2)
    app.emit_many([("cancel", "control"), ("retry", "control"), ("later", "control")])
    assert app.drain(timeout=30) == 5 + 6 + 4 + 5
    buckets = app.stats()
    assert totals(buckets, "ok") == {"processed": 5, "failed": 0, "retried": 0, "dead": 0}
    assert totals(buckets, "flaky") == {"processed": 6, "failed": 3, "retried": 3, "dead": 0}
    assert totals(buckets, "broken") == {"processed": 4, "failed": 4, "retried": 2, "dead": 2}
    # cancel: failed and dead; retry: failed and retried, then ok; later: sent back (no failure), then ok
    assert totals(buckets, "control") == {"processed": 5, "failed": 2, "retried": 1, "dead": 1}
    assert totals(buckets, None) == {"processed": 20, "failed": 9, "retried": 6, "dead": 3}
    for b in buckets:
        assert b.minute.tzinfo is UTC and b.minute.second == 0 and b.minute.microsecond == 0
        assert b.run_p50 is not None and b.run_p95 is not None and b.wait_p50 is not None
        assert 0 < b.run_p50 <= b.run_p95 < 5
    assert [b.worker for b in app.stats("flaky")] == ["flaky"] * len(app.stats("flaky"))


def test_wait_and_run_time_come_from_the_handlers(app: conveyor.App) -> None:
    took: list[float] = []

    @app.worker("slow")
    async def slow(event: Any) -> None:
        start = time.monotonic()
        await asyncio.sleep(0.05)
        took.append(time.monotonic() - start)

    @app.worker("delayed")
    def delayed(event: Any) -> None:
        pass

    app.emit_many([({}, "slow")] * 4)
    assert app.drain(timeout=30) == 4
    (slow_bucket, *_) = app.stats("slow")
    assert slow_bucket.run_p50 is not None
    assert min(took) / ERROR <= slow_bucket.run_p50 <= max(took) * ERROR + 0.005

    delayed_id = app.emit({}, "delayed", delay=1.0)  # the second it waits to fall due is not queue wait
    message = app.message(delayed_id)
    assert message is not None
    due = message.run_at.timestamp()  # on the store's clock, as the claim sees it
    time.sleep(max(0.0, due - time.time()) + 0.01)
    assert app.drain(timeout=30) == 1
    waited = time.time() - due  # at most this long since it fell due
    (late,) = app.stats("delayed")
    assert late.wait_p95 is not None and late.wait_p95 <= waited * ERROR < 1.0


def test_stats_of_two_runners_add_up_in_one_row_and_merge_their_histograms(
    store_url: str, store: Store, make_app: AppFactory
) -> None:
    other = store if store_url.endswith(":memory:") else open_store(store_url)
    try:
        now = time.time()
        fast, slow = StatsTally(), StatsTally()
        for _ in range(90):
            fast.add("w", 0.002, 0.010, now)
        for _ in range(10):
            slow.add("w", 0.5, 1.0, now, FAILED | RETRIED)
        slow.add("w", 0.5, 1.0, now, FAILED | DEAD)
        flush(store, "runner-a", fast)
        flush(other, "runner-b", slow)
    finally:
        if other is not store:
            other.close()
    (total, row) = make_app().stats()
    assert (row.worker, total.worker) == ("w", None)
    assert row.minute == datetime.fromtimestamp(int(now // 60) * 60, UTC)
    assert (row.processed, row.failed, row.retried, row.dead) == (101, 11, 10, 1)
    assert close_to(row.run_p50, 0.010) and close_to(row.run_p95, 1.0)
    assert close_to(row.wait_p50, 0.002) and close_to(row.wait_p95, 0.5)
    assert (total.processed, total.run_p95) == (row.processed, row.run_p95)


def test_the_minute_total_adds_up_the_workers_of_two_runners(
    store_url: str, store: Store, make_app: AppFactory
) -> None:
    other = store if store_url.endswith(":memory:") else open_store(store_url)
    try:
        now = time.time()
        a, b = StatsTally(), StatsTally()
        for _ in range(90):
            a.add("fast", 0.002, 0.010, now)
        for _ in range(5):
            a.add("slow", 0.5, 1.0, now, FAILED)
        for _ in range(5):
            b.add("slow", 0.5, 1.0, now, FAILED | RETRIED)
        b.dead_unrun("other", now)
        flush(store, "runner-a", a)
        flush(other, "runner-b", b)
    finally:
        if other is not store:
            other.close()
    total, *rows = make_app().stats()
    assert [r.worker for r in rows] == ["fast", "other", "slow"]
    assert total.worker is None and total.minute == rows[0].minute
    assert (total.processed, total.failed, total.retried, total.dead) == (100, 10, 5, 1)
    assert close_to(total.run_p50, 0.010) and close_to(total.run_p95, 1.0)
    assert close_to(total.wait_p50, 0.002) and close_to(total.wait_p95, 0.5)
    (raw,) = [r for r in store.stats(None, 2) if r.worker == ""]  # the store's own total row
    assert sum(raw.run.values()) == sum(raw.wait.values()) == 100


def test_each_minute_has_a_total_of_every_worker_first_then_the_workers(
    store: Store, app: conveyor.App
) -> None:
    now = time.time()
    tally = StatsTally()
    for worker, run, n in (("b", 0.2, 10), ("a", 0.001, 30)):
        for _ in range(n):
            tally.add(worker, 0.0, run, now - 120)  # two minutes ago
    tally.add("a", 0.0, 0.001, now)
    tally.dead_unrun("c", now)  # a dead letter made without a run (its leases were lost)
    flush(store, "r", tally)
    buckets = app.stats()
    assert [b.worker for b in buckets] == [None, "a", "b", None, "a", "c"]
    assert [(b.processed, b.dead, b.run_p50, b.wait_p95) for b in buckets[-1:]] == [(0, 1, None, None)]
    first = buckets[0]
    assert first.processed == 40 and close_to(first.run_p50, 0.001) and close_to(first.run_p95, 0.2)
    assert buckets[0].minute < buckets[3].minute
    assert [b.processed for b in app.stats("a")] == [30, 1]
    assert [b.processed for b in app.stats(minutes=2)] == [1, 1, 0]  # this minute and the last: not 2 ago
    assert app.stats("nobody") == []


def test_rows_past_the_kept_time_are_pruned_by_the_runners(store: Store, app: conveyor.App) -> None:
    now = time.time()
    tally = StatsTally()
    for minutes_ago in (0, 60 * 24, 60 * 24 + 30, 60 * 26, 60 * 30):
        tally.add(f"w{minutes_ago}", 0.0, 0.0, now - minutes_ago * 60)
    flush(store, "r", tally)
    pruner = StatsPruner(store, "r")
    assert KEEP >= 24 * 3600
    assert pruner.turn() == 4  # 26 and 30 hours ago: a worker's row and the minute's total each
    assert pruner.turn() == 0
    kept = store.stats(None, 3000)
    assert {r.worker for r in kept} == {"", "w0", "w1440", "w1470"}
    assert sorted(r.minute for r in kept if r.worker == "") == sorted(r.minute for r in kept if r.worker)
    assert {b.worker for b in app.stats(minutes=1440)} == {None, "w0"}  # the last 24 h


def test_bad_input_is_refused(app: conveyor.App) -> None:
    for minutes in (0, -1, 1441, True, 1.5, "60", None):
        with pytest.raises(ValueError, match="minutes must be an int from 1 to 1440"):
            app.stats(minutes=minutes)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid worker name"):
        app.stats(" w")
