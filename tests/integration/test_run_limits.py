"""``App.run``: global concurrency across processes, recycling, pause/resume on live runners."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import Cluster, wait_for


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, lease=1.0, cap=2)
    try:
        yield c
    finally:
        c.close()


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_worker_concurrency_holds_across_two_processes(cluster: Cluster) -> None:
    cluster.start(processes=2, concurrency=10)
    cluster.wait_children(2)
    cluster.emit_many([({"i": i, "seconds": 0.3}, "capped") for i in range(8)])  # concurrency=2
    wait_for(lambda: len(cluster.lines("capped")) == 8, 15, "8 capped messages")
    rows = cluster.lines("capped")
    intervals = [(float(start), float(end)) for _i, _pid, start, end in rows]
    assert max_overlap(intervals) == 2  # never more than the cap, and the cap is reached
    assert sorted(int(i) for i, *_ in rows) == list(range(8))
    assert cluster.stop() == 0


def test_max_tasks_per_child_recycles_without_losing_messages(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=4, max_tasks_per_child=10)
    cluster.wait_children(1)
    cluster.emit_many([({"i": i}, "done") for i in range(35)])
    wait_for(lambda: len(cluster.lines("done")) >= 35, 20, "35 messages")
    rows = cluster.lines("done")
    assert sorted(int(i) for i, _ in rows) == list(range(35))  # each exactly once
    pids = [pid for _, pid in rows]
    assert len(set(pids)) == 4  # 10 + 10 + 10 + 5
    assert all(pids.count(p) <= 10 for p in set(pids))
    assert cluster.stop() == 0
    assert cluster.app.messages() == []


def test_max_memory_per_child_recycles_without_losing_messages(cluster: Cluster) -> None:
    cluster.start(processes=1, concurrency=1, max_memory_per_child=150)
    (first,) = cluster.wait_children(1)
    cluster.emit_many([({"i": i, "mb": 200 if i == 1 else 0}, "hog") for i in range(4)])
    wait_for(lambda: len(cluster.lines("hog")) >= 4, 20, "4 messages")
    rows = cluster.lines("hog")
    assert sorted(int(i) for i, _ in rows) == list(range(4))
    by_message = {int(i): int(pid) for i, pid in rows}
    assert by_message[0] == by_message[1] == first
    assert by_message[2] != first and by_message[3] != first  # the process that grew was replaced
    assert cluster.stop() == 0


def test_pause_and_resume_reach_live_runners(cluster: Cluster) -> None:
    cluster.start(processes=2, concurrency=4)
    cluster.wait_children(2)
    cluster.app.pause("done")
    time.sleep(0.05)
    cluster.emit({"i": 0}, "done")
    time.sleep(1.5)
    assert cluster.lines("done") == []
    assert cluster.app.status()["done"].queued == 1
    cluster.app.resume("done")
    wait_for(lambda: cluster.lines("done"), 2.0, "the resumed message")
    cluster.app.block("done", "tests")
    time.sleep(0.05)
    cluster.emit({"i": 1}, "done")
    time.sleep(1.5)
    assert len(cluster.lines("done")) == 1
    cluster.app.unblock("done")
    wait_for(lambda: len(cluster.lines("done")) == 2, 2.0, "the unblocked message")
    assert cluster.stop() == 0
