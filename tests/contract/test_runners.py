"""Runners (docs/reference.md#runners-and-stats): what a runner's heartbeat records (host, pid, slots,
the messages it runs now), a runner lost until its leases expire and are rescued, a runner that stops
leaving at once. Every store."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import conveyor
from conveyor._runtime._stats import StatsPruner
from conveyor._stores import Store
from conveyor._stores._base import RunnerInfo

AppFactory = Callable[..., conveyor.App]


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` (a store read) until it answers something true; fail past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Serving:
    """An app whose worker ``hold`` runs until ``release`` is set, served by a runner on a thread (lease
    0.6 s: a heartbeat every 0.2 s)."""

    def __init__(self, app: conveyor.App) -> None:
        self.app = app
        self.release = threading.Event()
        app.worker("hold")(lambda event: self.release.wait(10) and None)
        app.worker("other")(lambda event: None)
        self.runner = app.runner(concurrency=7)
        self._stop = asyncio.Event()
        self._loop = asyncio.new_event_loop()
        serve = self.runner.serve(self._stop, grace=5)
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(serve,))
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)
            self._loop.close()


@pytest.fixture
def serving(make_app: AppFactory) -> Iterator[Serving]:
    s = Serving(make_app(lease=0.6))
    try:
        yield s
    finally:
        s.stop()


def test_a_serving_runner_shows_its_host_pid_slots_workers_and_the_messages_it_runs(
    serving: Serving,
) -> None:
    app = serving.app
    started = datetime.now(UTC)
    ids = sorted(app.emit_many([({}, "hold"), ({}, "hold")]))
    (me,) = until(lambda: [r for r in app.runners() if r.running_ids == ids])
    assert me.id == serving.runner.id
    assert (me.host, me.pid, me.slots, me.running, me.state) == (
        socket.gethostname(),
        os.getpid(),
        7,
        2,
        "live",
    )
    assert me.workers == ["hold", "other"]
    assert me.started_at <= me.last_seen and abs(me.last_seen - started) < timedelta(seconds=5)
    serving.release.set()
    until(lambda: [r for r in app.runners() if r.running == 0])  # the next heartbeat says so


def test_a_runner_that_stops_leaves_at_once(serving: Serving) -> None:
    until(serving.app.runners)
    serving.stop()
    assert serving.app.runners() == []


def test_a_killed_runner_is_lost_until_its_leases_expire_then_forgotten(
    store: Store, app: conveyor.App
) -> None:
    app.worker("w")(lambda event: None)
    message_id = app.emit({}, "w")
    store.runner_ttl = 0.3  # type: ignore[attr-defined]  # the default is 30 s
    (claimed,) = store.claim("killed", {"w": None}, 1, 0.8)  # then killed: no heartbeat, no settle
    store.heartbeat("killed", ["w"], 0.8, RunnerInfo("host-9", 4242, 5, [claimed.id]))
    store.heartbeat("alive", ["w"], 0.8, RunnerInfo("host-1", 17, 3, []))
    pruner = StatsPruner(store, "alive")
    (killed,) = [r for r in app.runners() if r.id == "killed"]
    assert (killed.host, killed.pid, killed.slots, killed.running_ids, killed.state) == (
        "host-9",
        4242,
        5,
        [message_id],
        "live",
    )
    time.sleep(0.4)
    store.heartbeat("alive", ["w"], 0.8, RunnerInfo("host-1", 17, 3, []))
    assert {r.id: r.state for r in app.runners()} == {"alive": "live", "killed": "lost"}
    pruner.turn()  # its message still runs under it (the lease has not expired): kept, lost
    assert {r.id: r.state for r in app.runners()} == {"alive": "live", "killed": "lost"}
    until(store.rescue)  # the lease expires: the message goes back to the queue
    store.heartbeat("alive", ["w"], 0.8, RunnerInfo("host-1", 17, 3, []))
    pruner.turn()
    assert [r.id for r in app.runners()] == ["alive"]
    assert app.message(message_id).state == "queued"  # type: ignore[union-attr]
