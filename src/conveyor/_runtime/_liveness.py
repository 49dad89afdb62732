"""Liveness: whether the supervisor's loop and every runner's loop are turning, known without a store
query (``GET /healthz``).

A runner process beats at most once a second on a pipe the supervisor gave it (``Pulse``: one byte
written at the top of a loop turn, so a loop that stopped turning, say blocked by an async handler that
never awaits, stops beating). The supervisor reads the beats in its ``select`` loop, which it turns at
least once a second, and publishes a ``Snapshot`` after every turn; the web face, a thread of the same
process, reads the latest one. ``current()`` is the liveness of the supervisor (or in-process runner)
serving in this process, None when none is (``conveyor web``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BEAT_EVERY",
    "DEFAULT_STALE",
    "STARTUP",
    "Heartbeats",
    "Liveness",
    "Pulse",
    "RunnerBeat",
    "Snapshot",
    "current",
    "in_process_pulse",
    "serving",
]

BEAT_EVERY = 1.0
"""Seconds between two beats of one runner (and the longest the supervisor sleeps between turns)."""
DEFAULT_STALE = 20.0
"""A loop that has not turned for this long fails liveness (``conveyor run --liveness-timeout``)."""
STARTUP = 60.0
"""Seconds a runner process may take to import the app and reach its loop before its first beat."""


class Pulse:
    """The runner side: ``beat()`` at every loop turn writes one byte to the supervisor, at most once
    every ``BEAT_EVERY`` seconds (one clock read otherwise). A full or closed pipe is ignored: the
    supervisor then sees no beat, which is what it should see."""

    __slots__ = ("_fd", "_last", "_on_beat")

    def __init__(self, fd: int | None = None, on_beat: Callable[[], None] | None = None) -> None:
        self._fd = fd
        self._on_beat = on_beat
        self._last = -BEAT_EVERY
        if fd is not None:
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)  # not for the handlers' own subprocesses

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._last < BEAT_EVERY:
            return
        self._last = now
        if self._on_beat is not None:
            self._on_beat()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._fd, b".")


@dataclass(frozen=True, slots=True)
class RunnerBeat:
    slot: int
    pid: int
    started: float
    """Monotonic time the process started."""
    beat: float | None
    """Monotonic time of its last beat (None: none yet)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    turned: float
    """Monotonic time of the supervisor's last loop turn."""
    runners: tuple[RunnerBeat, ...]
    restarting: tuple[int, ...] = ()
    """Slots whose process died and is due to be started again."""
    stopping: bool = False


@dataclass(slots=True)
class Liveness:
    """What the supervisor publishes and ``/healthz`` reads (thread-safe: one reference swapped)."""

    stale: float = DEFAULT_STALE
    snapshot: Snapshot = field(default_factory=lambda: Snapshot(time.monotonic(), ()))

    def publish(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def report(self, now: float | None = None) -> tuple[bool, dict[str, Any]]:
        """(alive, the JSON body of ``/healthz``): alive while the supervisor turned and every started
        runner beat within ``stale`` seconds (a runner still starting gets ``STARTUP`` seconds)."""
        now = time.monotonic() if now is None else now
        snap = self.snapshot
        problems: list[str] = []
        supervisor_age = now - snap.turned
        if supervisor_age > self.stale:
            problems.append(f"the supervisor's loop has not turned for {supervisor_age:.1f} s")
        runners = []
        for r in snap.runners:
            if r.beat is None:
                age = now - r.started
                state = "starting" if age <= max(STARTUP, self.stale) else "stale"
                if state == "stale":
                    problems.append(f"runner pid {r.pid} has not reached its loop in {age:.1f} s")
            else:
                age = now - r.beat
                state = "ok" if age <= self.stale else "stale"
                if state == "stale":
                    problems.append(f"runner pid {r.pid}'s loop has not turned for {age:.1f} s")
            runners.append({"slot": r.slot, "pid": r.pid, "state": state, "seconds": round(age, 3)})
        runners.extend(
            {"slot": s, "pid": None, "state": "restarting", "seconds": None} for s in snap.restarting
        )
        alive = not problems
        status = "stopping" if snap.stopping else ("ok" if alive else "failing")
        body: dict[str, Any] = {
            "status": status,
            "role": "run",
            "supervisor": {"pid": os.getpid(), "seconds": round(supervisor_age, 3)},
            "runners": sorted(runners, key=lambda r: int(r["slot"])),
            "stale_after": self.stale,
        }
        if problems:
            body["reason"] = "; ".join(problems)
        return alive or snap.stopping, body


_current: Liveness | None = None
_lock = threading.Lock()


def current() -> Liveness | None:
    """The liveness of what serves runners in this process, or None (a web face alone)."""
    return _current


@contextlib.contextmanager
def serving(liveness: Liveness) -> Iterator[Liveness]:
    """Make ``liveness`` this process's ``current()`` while the block runs."""
    global _current
    with _lock:
        previous, _current = _current, liveness
    try:
        yield liveness
    finally:
        with _lock:
            _current = previous


class Heartbeats:
    """The supervisor side: one pipe per runner process, read in the supervisor's ``select``."""

    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness
        self._read: dict[int, int] = {}
        """slot -> the read end of its runner's pipe."""
        self._beats: dict[int, float] = {}

    def open(self, slot: int) -> int:
        """A new pipe for the runner about to start in ``slot``: the write end, for the child (the
        caller closes it here once the child has it)."""
        self.forget(slot)
        r, w = os.pipe()
        os.set_blocking(r, False)
        self._read[slot] = r
        return w

    def fds(self) -> list[int]:
        return list(self._read.values())

    def read(self, ready: list[int]) -> None:
        """Take the beats waiting on ``ready`` fds; a pipe at its end (the runner exited) is closed."""
        if not ready:
            return
        now = time.monotonic()
        for slot, fd in list(self._read.items()):
            if fd not in ready:
                continue
            try:
                data = os.read(fd, 512)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                self._beats[slot] = now
            else:
                self._close(slot)

    def forget(self, slot: int) -> None:
        self._close(slot)
        self._beats.pop(slot, None)

    def _close(self, slot: int) -> None:
        fd = self._read.pop(slot, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        for slot in list(self._read):
            self.forget(slot)

    def publish(self, runners: list[tuple[int, int, float]], restarting: list[int], stopping: bool) -> None:
        """After a supervisor turn: ``runners`` as (slot, pid, started)."""
        self.liveness.publish(
            Snapshot(
                time.monotonic(),
                tuple(RunnerBeat(s, pid, started, self._beats.get(s)) for s, pid, started in runners),
                tuple(sorted(restarting)),
                stopping,
            )
        )


def in_process_pulse(liveness: Liveness) -> Pulse:
    """The pulse of a runner served in the supervisor's stead (one process): each beat publishes
    itself as both the supervisor's turn and the runner's beat."""
    started = time.monotonic()
    pid = os.getpid()

    def publish() -> None:
        now = time.monotonic()
        liveness.publish(Snapshot(now, (RunnerBeat(0, pid, started, now),)))

    liveness.publish(Snapshot(started, (RunnerBeat(0, pid, started, None),)))
    return Pulse(on_beat=publish)
