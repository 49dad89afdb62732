"""The ticker: a runner plugin that emits its app's schedules' ticks (docs/schedules.md).

It publishes the app's schedules to the store, sleeps until the next tick of any of them (no polling
faster than ``REFRESH``), and emits what is due. Every serving runner ticks; a tick is emitted once
across all of them because the store writes a unique (schedule, tick) record in the transaction that
emits it (``Store.emit_ticks``). Missed ticks (no runner was up, or the schedule was paused) follow the
schedule's ``misfire``: ``latest`` emits the newest, ``all`` every one (at most ``MAX_MISSED``, the
newest, oldest first), ``skip`` none. A tick is missed for a ticker when it fell due before the ticker
began watching the schedule (its first look, or its first look after a resume): a tick that falls due
while the ticker watches is on time, however late a busy host or a failed store call makes its emit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .._schedules import Schedules, ScheduleSpec
from .._stores import NewMessage, Store
from .._stores._base import DueTicks, ScheduleDef, ScheduleState

__all__ = ["MAX_MISSED", "PUBLISH_EVERY", "REFRESH", "Ticker"]

log = logging.getLogger("conveyor.runner")

MAX_MISSED = 1000
"""Most missed ticks ``misfire="all"`` emits at once."""
PUBLISH_EVERY = 10.0
"""Seconds between two publications of the runner's schedules (live while seen within the runner TTL)."""
REFRESH = 2.0
"""Longest sleep between two looks at the schedules' state: a resumed schedule's missed ticks are
emitted within this time."""
RETRY = 1.0
"""Seconds before a turn the store failed is tried again."""
LATE = 0.0002
"""Added to the sleep until a tick, so that the turn finds it due (a loop timer may fire a hair early)."""


class Ticker:
    """Publishes and ticks one runner's schedules. ``turn`` is the blocking step (tests drive it with
    their own clock); ``run`` loops it on a thread of its own."""

    name = "ticker"

    def __init__(
        self,
        schedules: Schedules,
        store: Store,
        runner_id: str,
        *,
        clock: Callable[[], float] = time.time,
        on_emit: Callable[[], None] | None = None,
    ) -> None:
        self.schedules = schedules
        self.on_emit = on_emit
        self.emitted = 0
        """Messages this ticker emitted."""
        self.store = store
        self.runner_id = runner_id
        self.clock = clock
        self._defs = [ScheduleDef(s.name, s.worker, s.cron, s.every, s.tz, s.misfire) for s in schedules]
        self._publish_at = float("-inf")
        self._seen: dict[str, tuple[bool, float | None]] = {}
        self._next: dict[str, float] = {}
        self._watching: dict[str, float] = {}
        """Per unpaused schedule, since when this ticker watches it: ticks before were missed."""
        self._thread: ThreadPoolExecutor | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="conveyor-ticker")
        while True:
            emitted = self.emitted
            try:
                wake_at = await loop.run_in_executor(self._thread, self.turn, self.clock())
                if self.emitted != emitted and self.on_emit is not None:
                    self.on_emit()
            except Exception as error:
                log.warning("runner %s: schedules could not tick (%s)", self.runner_id, error)
                wake_at = self.clock() + RETRY
            await asyncio.sleep(max(0.0, wake_at - self.clock()) + LATE)

    def stop(self) -> None:
        """Stop publishing: the runner's definitions leave the store (after any turn in flight)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            thread.submit(self.store.unpublish_schedules, self.runner_id).result()
        finally:
            thread.shutdown(wait=True)

    @property
    def next_tick(self) -> float | None:
        """The next tick of any unpaused schedule as of the last turn (None before the first)."""
        nexts = [at for name, at in self._next.items() if not self._seen[name][0]]
        return min(nexts, default=None)

    def turn(self, now: float) -> float:
        """Publish when due, emit every tick due at ``now`` (one transaction); return when to turn next."""
        if now >= self._publish_at:
            self.store.publish_schedules(self.runner_id, self._defs)
            self._publish_at = now + PUBLISH_EVERY
        states = {s.name: s for s in self.store.schedule_states()}
        looked: list[tuple[ScheduleSpec, tuple[bool, float | None]]] = []
        due: list[DueTicks] = []
        for spec in self.schedules:
            state = states.get(spec.name)
            if state is None:
                continue
            seen = (state.paused, state.last_at)
            if self._seen.get(spec.name) == seen and now < self._next.get(spec.name, now):
                continue  # nothing changed and no tick fell due since the last look
            looked.append((spec, seen))
            if state.paused:
                self._watching.pop(spec.name, None)
                continue
            watching = self._watching.setdefault(spec.name, now)
            found = _due(spec, state, now, watching)
            if found is not None:
                due.append(found)
        if due:
            self.emitted += len(self.store.emit_ticks(due))
        for spec, seen in looked:  # after the emit: a failed one is looked at again at the retry
            self._seen[spec.name] = seen
            self._next[spec.name] = spec.timing.next_after(now)
        return min([now + REFRESH, self._publish_at, *self._next.values()])


def _due(spec: ScheduleSpec, state: ScheduleState, now: float, watching: float) -> DueTicks | None:
    """The ticks of ``spec`` to emit at ``now`` after its state's ``last_at``, by its misfire policy;
    ticks not later than ``watching`` were missed."""
    since = state.since if state.last_at is None else state.last_at
    newest = spec.timing.newest(since, now, 1)
    if not newest:
        return None
    upto = newest[-1]
    if spec.misfire == "all":
        ticks = spec.timing.newest(since, now, MAX_MISSED)
    elif spec.misfire == "skip":
        ticks = newest if upto > watching else []
    else:
        ticks = newest
    messages = [(t, NewMessage(spec.worker, spec.event_at(t), key=spec.key_at(t))) for t in ticks]
    return DueTicks(spec.name, upto, messages)
