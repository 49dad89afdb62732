"""Schedules under real processes, on SQLite (one file) and PostgreSQL (one database).

``conveyor run`` supervisors of apps/schedule_app.py (three ``every=1`` schedules, misfire latest, all and
skip, to a worker that records every message it runs) share one store; each supervisor stands for a host.
Every tick must be emitted exactly once whatever the number of runners, through kill -9 of runners at tick
time, and after an outage each misfire policy must do what it says. What was emitted is what the worker
ran plus what is still queued at the end; a tick is "doubled" when two messages (two ids) carry its key.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import conveyor

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from run_harness import children_of, wait_for

pytestmark = pytest.mark.slow

APP = Path(__file__).with_name("apps") / "schedule_app.py"
NAMES = ("every-all", "every-latest", "every-skip")


@dataclass(frozen=True)
class Emitted:
    """One message a schedule emitted: its schedule and tick (from its key), id and enqueued_at."""

    schedule: str
    tick: int
    id: int
    enqueued_at: float


def _emitted(key: str | None, mid: int, event: Any, enqueued_at: float) -> Emitted:
    assert key is not None, f"message {mid} has no key"
    prefix, name, tick = key.split(":")
    assert prefix == "schedule" and name in NAMES, key
    at = datetime.fromtimestamp(int(tick), UTC)
    assert event == {"schedule": name, "at": event["at"]} and datetime.fromisoformat(event["at"]) == at, event
    return Emitted(name, int(tick), mid, enqueued_at)


class Runs:
    """``conveyor run`` supervisors of the schedule app on one store; every one is killed at the end."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.dir = tmp
        self.env = {**os.environ, "SCHEDULE_DIR": str(tmp), "SCHEDULE_LEASE": "1.0"}
        self.env.pop("CONVEYOR_STORE", None)
        self.exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
        self.app = conveyor.App(url)
        self.supervisors: list[subprocess.Popen[bytes]] = []

    def start(self, processes: int) -> None:
        log = self.dir / f"supervisor-{len(self.supervisors)}.log"
        command = [self.exe, "run", f"{APP}:app", "--store", self.url, "--no-web"]
        with log.open("wb") as out:
            self.supervisors.append(
                subprocess.Popen(
                    [*command, "--processes", str(processes)],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )

    def runners(self) -> list[int]:
        """Pids of the live supervisors' runner processes."""
        return [pid for s in self.supervisors if s.poll() is None for pid in children_of(s.pid)]

    def replaced(self, pid: int, count: int) -> bool:
        """Are ``count`` runners up again, ``pid`` (killed) not among them?"""
        up = self.runners()
        return len(up) == count and pid not in up

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(self.dir.glob("supervisor-*")))

    def stop_all(self) -> None:
        """SIGTERM every live supervisor and wait: each must stop cleanly (exit 0)."""
        live = [s for s in self.supervisors if s.poll() is None]
        for s in live:
            s.send_signal(signal.SIGTERM)
        codes = [s.wait(30) for s in live]
        assert codes == [0] * len(live), self.logs()

    def handled(self) -> list[Emitted]:
        path = self.dir / "handled"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line]
        return [_emitted(key, mid, event, enqueued) for key, mid, event, enqueued, _pid, _at in rows]

    def ticking(self, count: int, after: float = 0.0) -> bool:
        """Has the worker run ``count`` ticks later than ``after`` of every schedule?"""
        seen = [e.schedule for e in self.handled() if e.tick > after]
        return all(seen.count(name) >= count for name in NAMES)

    def emitted(self) -> dict[str, dict[int, list[Emitted]]]:
        """Per schedule, per tick: the distinct messages emitted (run, or still queued: not every
        message emitted before a stop has run)."""
        assert self.app.dead("record") == []
        queued = [
            _emitted(m.key, m.id, m.event, m.enqueued_at.timestamp())
            for m in self.app.messages(worker="record", limit=10_000)
        ]
        unique = {e.id: e for e in [*self.handled(), *queued]}
        out: dict[str, dict[int, list[Emitted]]] = {name: {} for name in NAMES}
        for e in sorted(unique.values(), key=lambda e: e.id):
            out[e.schedule].setdefault(e.tick, []).append(e)
        return out

    def close(self) -> None:
        for s in self.supervisors:
            kids = children_of(s.pid)
            if s.poll() is None:
                s.kill()
            s.wait(10)
            for pid in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def runs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runs]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conveyor.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    r = Runs(url, tmp_path)
    try:
        yield r
    finally:
        r.close()


def once_each(ticks: dict[int, list[Emitted]]) -> list[int]:
    """The ticks, in order, after checking that none was emitted twice."""
    doubled = {tick: [e.id for e in es] for tick, es in ticks.items() if len(es) > 1}
    assert doubled == {}, f"ticks emitted more than once (tick: message ids): {doubled}"
    return sorted(ticks)


def assert_no_gap(ticks: list[int], what: str) -> None:
    missing = sorted(set(range(ticks[0], ticks[-1] + 1)) - set(ticks))
    assert missing == [], f"{what}: ticks never emitted between {ticks[0]} and {ticks[-1]}: {missing}"


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_three_runs_emit_each_tick_once_through_kill_9_at_tick_time(runs: Runs) -> None:
    """Three ``conveyor run --processes 1`` for about 10 s; three times a runner process is killed with
    kill -9 right at a tick (its supervisor starts another): no tick lost, none doubled."""
    for _ in range(3):
        runs.start(processes=1)
    wait_for(lambda: len(runs.runners()) == 3, 30, "three runner processes")
    wait_for(lambda: runs.ticking(1), 30, "the schedules ticking")
    began = time.time()
    killed: list[tuple[int, int]] = []
    for offset in (0.0, 0.001, 0.002):  # a tick's emit commits a few ms after the tick
        victims = runs.runners()
        victim = victims[len(killed) % len(victims)]
        tick = math.floor(time.time()) + 2
        sleep_until(tick + offset)
        os.kill(victim, signal.SIGKILL)
        killed.append((tick, victim))
        wait_for(partial(runs.replaced, victim, 3), 15, "the killed runner replaced")
    assert not {pid for _, pid in killed} & set(runs.runners())
    sleep_until(began + 10)
    runs.stop_all()
    emitted = runs.emitted()
    for name in NAMES:
        ticks = once_each(emitted[name])
        assert_no_gap(ticks, name)
        assert len(ticks) >= 10, f"{name}: only {len(ticks)} ticks in about 10 s"
        assert all(ticks[0] < tick < ticks[-1] for tick, _ in killed)


def test_the_only_runner_killed_at_tick_time_loses_no_tick(runs: Runs) -> None:
    """One ``conveyor run --processes 1``: its runner is killed with kill -9 right at three ticks, so no
    other runner can emit those ticks; the one its supervisor starts again catches up. ``all`` and
    ``latest`` lose no tick; ``skip`` may skip only a tick the kill interrupted; none is doubled."""
    runs.start(processes=1)
    wait_for(lambda: len(runs.runners()) == 1, 30, "a runner process")
    wait_for(lambda: runs.ticking(1), 30, "the schedules ticking")
    kills: list[int] = []
    for offset in (0.001, 0.002, 0.003):
        (victim,) = runs.runners()
        tick = math.floor(time.time()) + 2
        sleep_until(tick + offset)
        os.kill(victim, signal.SIGKILL)
        kills.append(tick)
        wait_for(partial(runs.replaced, victim, 1), 15, "the killed runner replaced")
    wait_for(lambda: runs.ticking(2, after=kills[-1]), 15, "ticks after the last kill")
    runs.stop_all()
    emitted = runs.emitted()
    for name in ("every-all", "every-latest"):
        ticks = once_each(emitted[name])
        assert_no_gap(ticks, name)
        assert ticks[0] < kills[0] and kills[-1] < ticks[-1]
    ticks = once_each(emitted["every-skip"])
    skipped = sorted(set(range(ticks[0], ticks[-1] + 1)) - set(ticks))
    assert set(skipped) <= set(kills), f"every-skip: ticks never emitted {skipped}, kills at {kills}"


def test_three_supervisors_as_three_hosts_emit_each_tick_once(runs: Runs) -> None:
    """Three ``conveyor run --processes 2`` (six runners, as three hosts would run them) for 10 s."""
    for _ in range(3):
        runs.start(processes=2)
    wait_for(lambda: len(runs.runners()) == 6, 30, "six runner processes")
    wait_for(lambda: runs.ticking(1), 30, "the schedules ticking")
    listed = runs.app.schedules()  # published by the runners: this process's app defines none
    assert [(s.name, s.worker, s.every, s.cron, s.misfire, s.paused) for s in listed] == [
        (name, "record", 1.0, None, name.removeprefix("every-"), False) for name in NAMES
    ]
    assert all(s.next_at is not None and s.next_at.tzinfo is not None for s in listed)
    time.sleep(10)
    runs.stop_all()
    emitted = runs.emitted()
    for name in NAMES:
        ticks = once_each(emitted[name])
        assert_no_gap(ticks, name)
        assert len(ticks) >= 10, f"{name}: only {len(ticks)} ticks in about 10 s"
    assert runs.app.schedules() == []  # no live runner defines them any more


def test_after_a_five_tick_outage_each_misfire_policy_holds(runs: Runs) -> None:
    """Two runners tick, all stop, more than 5 ticks pass, one starts again: ``all`` emits every missed
    tick, ``latest`` only the latest one, ``skip`` none; then each ticks on as before."""
    for _ in range(2):
        runs.start(processes=1)
    wait_for(lambda: runs.ticking(2), 30, "the schedules ticking")
    runs.stop_all()
    before = runs.emitted()
    last = {name: once_each(before[name])[-1] for name in NAMES}
    down = max(last.values())
    sleep_until(down + 6.3)  # every runner down for ticks down+1 .. down+6
    restarted = time.time()
    runs.start(processes=1)
    wait_for(lambda: runs.ticking(3, after=restarted + 1), 30, "the schedules ticking after the outage")
    runs.stop_all()
    emitted = runs.emitted()
    ticks = {name: once_each(emitted[name]) for name in NAMES}

    # all: no gap at all; the outage's ticks were emitted late, after the restart, one message each
    assert_no_gap(ticks["every-all"], "every-all")
    missed = range(last["every-all"] + 1, math.floor(restarted) + 1)
    assert len(missed) >= 5
    caught_up = [emitted["every-all"][tick][0].enqueued_at for tick in missed]
    assert min(caught_up) >= restarted
    first_pass = caught_up[0]  # when the restarted runner first looked at its schedules

    # latest: one message, for the latest tick missed when the restarted runner first looked
    after = [t for t in ticks["every-latest"] if t > last["every-latest"]]
    latest = {math.floor(first_pass - 0.1), math.floor(first_pass + 0.1)}
    assert after[0] in latest, (after, first_pass, last["every-latest"])
    assert after[0] - last["every-latest"] > 5
    assert_no_gap(after, "every-latest after the outage")

    # skip: nothing for the ticks missed; ticking resumed at the first tick after the runner was up
    after = [t for t in ticks["every-skip"] if t > last["every-skip"]]
    assert first_pass - 0.1 <= after[0] <= first_pass + 1.1, (after, first_pass, last["every-skip"])
    assert_no_gap(after, "every-skip after the outage")

    ends = {name: ticks[name][-1] for name in NAMES}
    assert max(ends.values()) - min(ends.values()) <= 1, ends
