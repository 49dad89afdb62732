"""``App.run``: a supervisor with real runner processes; kill -9, leases, restarts, shutdown."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import Cluster, wait_for


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, lease=1.0)
    try:
        yield c
    finally:
        c.close()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_runs_every_message_once_across_processes(cluster: Cluster, start_method: str) -> None:
    cluster.emit_many([({"i": i}, "done") for i in range(100)])
    cluster.start(processes=2, concurrency=5, start_method=start_method)
    pids = cluster.wait_children(2)
    spawned = [b"conveyor._runtime._child" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids]
    assert spawned == [start_method == "spawn"] * 2
    cluster.emit_many([({"i": i}, "done") for i in range(100, 200)])
    wait_for(lambda: len(cluster.lines("done")) >= 200, 10, "200 messages handled")
    assert cluster.stop() == 0
    handled = sorted(int(i) for i, _pid in cluster.lines("done"))
    assert handled == list(range(200))
    assert {int(pid) for _i, pid in cluster.lines("done")} <= set(pids)
    assert cluster.app.messages() == []
    assert cluster.children() == []


def test_sigterm_lets_in_flight_handlers_finish(cluster: Cluster) -> None:
    cluster.start(processes=2, concurrency=4)
    cluster.wait_children(2)
    cluster.emit_many([({"i": i, "seconds": 1.0}, "slow") for i in range(3)])
    cluster.emit_many([({"i": i, "seconds": 1.0}, "aslow") for i in range(3)])
    wait_for(
        lambda: len(cluster.lines("slow-start")) + len(cluster.lines("aslow-start")) == 6, 10, "all started"
    )
    assert cluster.stop(signal.SIGTERM) == 0
    assert len(cluster.lines("slow-end")) == 3
    assert len(cluster.lines("aslow-end")) == 3
    assert cluster.app.messages() == []
    assert all(t.outcome == "ok" and t.attempt == 1 for t in cluster.app.traces("slow"))


def test_past_the_grace_period_unfinished_messages_go_back_without_using_an_attempt(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=4, grace=0.3)
    cluster.wait_children(1)
    ids = cluster.emit_many([({"i": i, "seconds": 30}, "aslow") for i in range(2)])
    ids += cluster.emit_many([({"i": 9, "seconds": 30}, "slow")])
    wait_for(lambda: len(cluster.lines("aslow-start")) + len(cluster.lines("slow-start")) == 3, 10, "started")
    started = time.monotonic()
    assert cluster.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 5
    messages = {m.id: m for m in cluster.app.messages()}
    assert sorted(messages) == sorted(ids)
    assert all(m.state == "queued" and m.attempt == 0 and m.last_error is None for m in messages.values())
    assert cluster.app.traces("aslow") == []


def test_a_stop_while_runners_are_being_forked_is_not_lost(cluster: Cluster) -> None:
    """SIGTERM right as the supervisor forks its runners: a child must not swallow it with the
    supervisor's handler (it would serve on, and the supervisor wait for it past its grace period)."""
    for delay in (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12):
        cluster.start(processes=2, concurrency=2, grace=60)
        time.sleep(delay)
        # 0: it stopped its runners; -SIGTERM: the signal came before it had set up its handling (it
        # had started nothing). A hang (TimeoutExpired) is the failure.
        assert cluster.stop(timeout=10) in (0, -signal.SIGTERM), f"SIGTERM after {delay} s"


def test_a_second_signal_releases_at_once(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=2, grace=60)
    cluster.wait_children(1)
    cluster.emit({"i": 0, "seconds": 30}, "aslow")
    wait_for(lambda: cluster.lines("aslow-start"), 10, "started")
    assert cluster.supervisor is not None
    cluster.supervisor.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert cluster.stop(signal.SIGINT, timeout=10) == 0
    (message,) = cluster.app.messages()
    assert (message.state, message.attempt) == ("queued", 0)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_kill_9_runner_is_restarted_and_its_message_reclaimed_after_the_lease(
    cluster: Cluster, start_method: str
) -> None:
    cluster.start(processes=1, concurrency=2, start_method=start_method)
    (pid,) = cluster.wait_children(1)
    (mid,) = cluster.emit_many([({"i": 0, "seconds": 0.5}, "slow")])
    wait_for(lambda: cluster.lines("slow-start"), 10, "the message started")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: cluster.children() and cluster.children() != [pid], 10, "a new runner process")
    wait_for(lambda: cluster.lines("slow-end"), 10, "the message to be run again and finish")
    (start1, start2) = cluster.lines("slow-start")
    assert int(start1[1]) == pid and int(start2[1]) != pid
    # "slow-end" is printed before the handler returns; its outcome is stored just after.
    wait_for(lambda: len(cluster.app.traces("slow")) == 2, 10, "the second run to be settled")
    runs = [(t.message_id, t.outcome, t.attempt) for t in cluster.app.traces("slow")]
    assert runs == [(mid, "ok", 2), (mid, "lost", 1)]  # the killed run left a trace: its lease expired
    assert cluster.stop() == 0


def test_a_message_that_kills_its_runner_every_time_ends_dead(cluster: Cluster) -> None:
    cluster.start(processes=2, concurrency=2)
    cluster.wait_children(2)
    mid = cluster.emit({}, "poison")  # max_attempts=2
    wait_for(lambda: cluster.app.dead("poison"), 15, "the poison pill to be buried")
    (dead,) = cluster.app.dead("poison")
    assert dead.id == mid
    assert dead.attempt == 2
    assert dead.last_error is not None and "runner" in dead.last_error and "died" in dead.last_error
    assert len(cluster.lines("poison")) == 2  # it ran exactly max_attempts times
    cluster.wait_children(2)  # the supervisor restarted the killed runners
    assert cluster.stop() == 0


def test_an_async_handler_past_its_timeout_is_cancelled(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=2)
    cluster.wait_children(1)
    cluster.emit({}, "astuck")
    wait_for(lambda: cluster.app.dead("astuck"), 10, "the timed-out message to be dead")
    (trace,) = cluster.app.traces("astuck")
    assert trace.outcome == "timeout" and "timeout" in (trace.error or "")
    assert cluster.stop() == 0


def test_a_stuck_sync_handler_fails_and_its_runner_is_replaced(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=1)
    (pid,) = cluster.wait_children(1)
    cluster.emit({}, "stuck")  # timeout 0.5 s, sleeps 60 s
    wait_for(lambda: cluster.app.dead("stuck"), 10, "the timed-out message to be dead")
    (trace,) = cluster.app.traces("stuck")
    assert trace.outcome == "timeout"
    # its only slot is free again at once: another message runs while the stuck thread still sleeps
    cluster.emit({"i": 1}, "done")
    wait_for(lambda: cluster.lines("done"), 5, "a message after the timeout")
    assert int(cluster.lines("done")[0][1]) == pid
    # and after the grace period (the handler's timeout, at least 1 s) the process is replaced
    wait_for(lambda: cluster.children() and cluster.children() != [pid], 10, "a replacement runner")
    assert cluster.app.status()["stuck"].dead == 1
    assert cluster.stop() == 0


def test_sigterm_under_load_then_restart_loses_nothing_and_runs_nothing_twice(cluster: Cluster) -> None:
    total = 10_000
    cluster.emit_many([({"i": i}, "done") for i in range(total)])
    cluster.start(processes=2, concurrency=20)
    cluster.wait_children(2)
    wait_for(lambda: len(cluster.lines("done")) >= 200, 10, "some messages handled")
    assert cluster.stop(signal.SIGTERM) == 0
    first = len(cluster.lines("done"))
    assert first < total, "stopped too late to test anything; emit more"
    assert all(m.attempt == 0 and m.state == "queued" for m in cluster.app.messages(limit=total))
    cluster.start(processes=2, concurrency=20)
    wait_for(lambda: len(cluster.lines("done")) >= total, 30, "the rest handled after a restart")
    assert cluster.stop() == 0
    handled = sorted(int(i) for i, _pid in cluster.lines("done"))
    assert handled == list(range(total))  # each exactly once: a graceful stop runs nothing twice
    assert cluster.app.messages() == []
