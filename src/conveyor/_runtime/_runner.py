"""A runner: one asyncio loop that claims messages in batches, runs them, and settles them in batches.

The loop's one store round trip per turn settles everything finished since the last turn and claims
up to the number of free slots (group commit), on a dedicated store thread so that a slow database
never blocks handlers running on the loop. ``drain`` and ``serve`` share every step.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from .._emitter import Emitter
from .._registry import Registry
from .._stores import Claimed, Settlement, Store
from .._stores._base import RunnerInfo, Wakeups
from ._executor import Job, SyncPool
from ._handling import Handlers
from ._hints import Hints
from ._liveness import Pulse
from ._logs import capture_logs
from ._memory import MemoryLimit
from ._plugins import plugins_for, start_plugins, stop_plugins
from ._recording import Recorder
from ._settle import is_data_error, settle_apart
from ._stats import StatsTally
from ._traces import TraceBuffer
from ._watchdog import RETIRE_STUCK, Watchdog

__all__ = [
    "RETIRE_MAX_MEMORY",
    "RETIRE_MAX_TASKS",
    "RETIRE_STUCK",
    "Runner",
    "RunnerOptions",
]

log = logging.getLogger("conveyor.runner")
T = TypeVar("T")
DEFAULT_SLOTS = 50


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    slots: int = DEFAULT_SLOTS
    """Messages this runner runs at once (sync handlers get up to as many threads)."""
    lease: float = 30.0
    incomplete_delay: float = 300.0
    max_claim: int = 500
    """Most messages claimed in one statement."""
    poll: float = 1.0
    """Longest an idle runner waits before it looks at the store again without a wake-up hint."""
    rescue_every: float = 5.0
    max_tasks: int | None = None
    """Retire (finish in-flight messages and return) after claiming this many messages."""
    max_memory: int | None = None
    """Retire once the process's resident memory passes this many bytes."""
    hint_delay: float = 0.0
    """Seconds an idle runner waits after a store hint before it claims (staggered per process)."""
    stuck_grace: float | None = None
    """Seconds a sync handler past its timeout may keep its thread before the runner retires
    (None: the handler's timeout, between 1 and 30 s)."""


GATHER = 0.002
"""Seconds a busy runner with fewer than half its slots free waits for more handlers to finish
before its next settle-and-claim turn."""
DUE_MARGIN = 0.05
"""Seconds past its ``run_at`` a queued message still counts as falling due for an idle runner's sleep."""
DUE_RETRY = 0.005
"""Seconds an idle runner waits before it looks again at a message that fell due but was not claimed."""
DUE_LATE = 0.0002
"""Added to the sleep until a message falls due, so that the claim finds it due."""
_HOST = socket.gethostname()
RETIRE_MAX_TASKS = "max-tasks"
RETIRE_MAX_MEMORY = "max-memory"


class Runner(Hints, Watchdog, Recorder, Handlers):
    def __init__(
        self,
        registry: Registry,
        store: Store,
        emitter: Emitter,
        options: RunnerOptions | None = None,
        runner_id: str | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.emitter = emitter
        self.options = options or RunnerOptions()
        self.id = runner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._plugins = plugins_for(registry, store, self.id, self.wake)
        """Background duties started when serving (the ticker); ``drain`` starts none."""
        self.processed = 0
        self.claimed = 0
        self.exit_reason: str | None = None
        """Why the runner retired on its own: max-tasks, max-memory or stuck (None: it was stopped)."""
        self._hooks = emitter.hooks
        self._specs = {s.name: self._hooks.wrapped(s) if self._hooks.on_run_side else s for s in registry}
        """The specs handlers run by: with ``on_start`` hooks, wrapped to run them first (``_hooks.py``)."""
        self._limits = registry.limits()
        self._rates = registry.rates() or None
        """Rate-limited workers' rates (None: no worker has one, and claims take the plain path)."""
        self._paced: dict[str, Any] = {} if self._rates is None else {"rates": self._rates}
        """What claims add for rates: nothing at all while no worker has one."""
        self._batch = Settlement()
        self._traces = TraceBuffer()
        self._stats = StatsTally(time.monotonic())
        self._inflight: dict[int, asyncio.Task[None] | Job] = {}
        self._sync_inflight = 0
        self._pool = SyncPool(self.options.slots, self._sync_done)
        self._io_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="conveyor-store")
        self._woken = False
        self._waiter: asyncio.Future[None] | None = None
        self._empty: asyncio.Event | None = None
        self._watch_timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hurry = asyncio.Event()
        self._io_busy = 0
        self._expired: set[int] = set()
        self._refill_at = max(1, self.options.slots // 2)
        self._memory = MemoryLimit(self.id)
        self._due_at: float | None = None
        """Monotonic time the next queued message falls due, as the store last said (None: none)."""
        self._hinted = True
        self._workers = registry.names()
        sync_timeouts = [s.timeout for s in registry if not s.is_async and s.timeout is not None]
        self._min_sync_timeout = min(sync_timeouts, default=None)
        self.pulse: Pulse | None = None
        """Beats at every loop turn, for the supervisor's ``/healthz`` (``_liveness``)."""

    # -- public faces ----------------------------------------------------------------------------
    async def drain(self) -> int:
        """Run until nothing this runner may claim is left; return how many messages were handled."""
        return await self._main(stop=None)

    async def serve(self, stop: asyncio.Event, grace: float = 30.0) -> int:
        """Run until ``stop`` is set (or the runner retires); then finish in-flight messages within
        ``grace`` seconds and release the rest without using an attempt."""
        return await self._main(stop=stop, grace=grace)

    def hurry(self) -> None:
        """Stopping: do not wait out the grace period; release what is running now. Loop thread only."""
        self._hurry.set()

    def wake(self) -> None:
        """A hint that messages may be ready (an emit, a rule change). Safe from the loop thread only."""
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the loop --------------------------------------------------------------------------------
    async def _main(self, stop: asyncio.Event | None, grace: float = 30.0) -> int:
        self._loop = asyncio.get_running_loop()
        self._empty = asyncio.Event()
        self._empty.set()
        helpers = [asyncio.create_task(self._heartbeat(), name="conveyor-heartbeat")]
        wakeups: Wakeups | None = None
        if stop is not None:
            wakeups = self._open_wakeups()
            on_hint = getattr(wakeups, "on_hint", None)
            if on_hint is not None:
                on_hint(self._on_hint)
            helpers.append(
                asyncio.create_task(self._listen(wakeups, on_hint is not None), name="conveyor-wakeups")
            )
            helpers.append(asyncio.create_task(self._wake_on(stop), name="conveyor-stop"))
            helpers.extend(start_plugins(self._plugins))
        try:
            with capture_logs():
                await self._io(self.store.rescue)
                await self._loop_until(stop)
                if stop is not None:
                    await self._finish(grace)
        finally:
            for helper in helpers:
                helper.cancel()
            if self._watch_timer is not None:
                self._watch_timer.cancel()
            await self._abandon()
            self._pool.shutdown()
            if wakeups is not None:
                wakeups.close()
            if stop is not None:
                stop_plugins(self._plugins, self.id)
            try:
                self.store.leave(self.id)
            except Exception:
                log.exception("runner %s: could not sign off from the store", self.id)
            self._io_thread.shutdown(wait=True)
        return self.processed

    def _retiring(self, stop: asyncio.Event | None) -> bool:
        return self.exit_reason is not None or (stop is not None and stop.is_set())

    async def _loop_until(self, stop: asyncio.Event | None) -> None:
        failures = 0
        max_tasks = self.options.max_tasks
        pulse = self.pulse
        while not self._retiring(stop):
            if pulse is not None:
                pulse.beat()
            self._woken = False
            if self._inflight and self.options.slots - len(self._inflight) < self._refill_at:
                await self._gather(stop)
            if self.options.max_memory is not None and self._memory.over(
                self.options.max_memory, self.claimed
            ):
                self._retire(RETIRE_MAX_MEMORY)
                break
            batch = self._take_batch()
            free = self.options.slots - len(self._inflight)
            want = min(free, self.options.max_claim)
            if max_tasks is not None:
                want = min(want, max_tasks - self.claimed)
            issued = time.time()
            # Serving, a runner with free slots that claims nothing asks when the next message falls due,
            # if that may have changed since it last asked: a hint or poll came, a wait ran out, or this
            # batch puts messages back for later.
            ask = stop is not None and want > 0 and (self._hinted or bool(batch.retry or batch.incomplete))
            if ask:
                self._hinted = False
            try:
                if self._io_busy or len(self._inflight) > self._sync_inflight:
                    claimed = await self._io(self._exchange, batch, want, ask)
                else:
                    # No async handler needs the loop meanwhile (sync ones run on their threads):
                    # settle and claim on the loop itself, sparing two thread hops per turn.
                    claimed = self._exchange(batch, want, ask)
            except Exception as error:
                self._hinted = self._hinted or ask  # not asked: ask next turn
                if batch and is_data_error(error):  # one message's data, not the store: settle apart
                    try:
                        await self._io(settle_apart, self._settle, batch, error)
                        continue
                    except Exception as again:
                        error = again
                self._restore(batch)
                failures += 1
                pause = min(5.0, 0.05 * 2**failures)
                log.warning("runner %s: store unavailable (%s); retrying in %.2f s", self.id, error, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            if claimed:
                self._hinted = self._hinted or ask  # not asked (messages to start first): ask next turn
                self._start(claimed, issued, time.time())
            if max_tasks is not None and self.claimed >= max_tasks:
                self._retire(RETIRE_MAX_TASKS)
                break
            if want and len(claimed) == want:
                continue  # there may be more
            if stop is None and not self._inflight:
                if not claimed and not batch and not self._batch:
                    paced = await self._io(self.store.rate_wait, self._workers) if self._rates else None
                    if paced is None:
                        return  # drained: nothing settled, claimed, running or waiting to be settled
                    await asyncio.sleep(max(paced, DUE_RETRY))  # due messages a rate holds back
                continue  # what was just settled may be due again (a retry without backoff)
            await self._wait(stop, self._sleep_for() if stop is not None else None, due=True)

    async def _gather(self, stop: asyncio.Event | None) -> None:
        """Busy, with few slots free: let more handlers finish for up to ``GATHER`` seconds, so that one
        turn settles and claims a batch rather than a message or two (quick handlers finish together)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER
        while self._inflight and self.options.slots - len(self._inflight) < self._refill_at:
            left = deadline - loop.time()
            if left <= 0 or self._retiring(stop):
                return
            self._woken = False
            await self._wait(stop, left)

    async def _wait(
        self, stop: asyncio.Event | None, timeout: float | None = None, due: bool = False
    ) -> None:
        """Until ``wake()`` (a hint, a finished handler, ``stop``), ``timeout`` or, serving, ``poll`` s."""
        if self._woken or (stop is not None and stop.is_set()):
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        if timeout is None and stop is not None:
            timeout = self.options.poll
        timer = loop.call_later(timeout, _resolve, waiter) if timeout is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        if due and not self._woken:  # the wait ran out (the next message is due, or a poll)
            self._hinted = True

    def _retire(self, reason: str) -> None:
        if self.exit_reason is None:
            self.exit_reason = reason
            log.info("runner %s: retiring (%s)", self.id, reason)
        self.wake()

    def _exchange(self, batch: Settlement, want: int, ask: bool = False) -> list[Claimed]:
        """On the store thread: settle what finished, then claim for the free slots; ``ask`` (serving,
        something may have changed) and nothing claimed: also ask when the next message falls due."""
        both = getattr(self.store, "settle_and_claim", None)
        if both is not None:  # one transaction (SQLite)
            claimed: list[Claimed] = both(
                self.id, batch, self._limits, max(0, want), self.options.lease, **self._paced
            )
        else:
            if batch:
                self.store.settle(self.id, batch)
            claimed = (
                []
                if want <= 0
                else self.store.claim(self.id, self._limits, want, self.options.lease, **self._paced)
            )
        if ask and not claimed:
            due_in = self.store.next_due(self._workers, DUE_MARGIN)
            if self._rates is not None:  # due messages a rate holds back: wake for the next start
                paced = self.store.rate_wait(self._workers)
                if paced is not None and paced > 0:
                    due_in = paced if due_in is None else min(due_in, paced)
            self._due_at = None if due_in is None else time.monotonic() + due_in
        return claimed

    def _sleep_for(self) -> float:
        """How long a serving runner waits for a hint (or a handler to finish): until the next message
        falls due, at most ``poll`` seconds. One that fell due since the claim (a claim racing its
        ``run_at``) or that cannot be claimed now (a capped worker at its cap) is looked at again
        shortly, only while it is within ``DUE_MARGIN`` of its ``run_at``."""
        due_at = self._due_at
        if due_at is None:
            return self.options.poll
        left = due_at - time.monotonic()
        if left <= 0:
            # Ask again next turn, however this wait ends: a handler that finishes wakes the runner
            # too, and a turn woken so must not forget that a message is due (it would wait a poll).
            self._due_at = None
            self._hinted = True
            return DUE_RETRY
        return min(self.options.poll, left + DUE_LATE)

    async def _finish(self, grace: float) -> None:
        """Stopping: let in-flight handlers finish within ``grace``, then settle what finished."""
        if self._inflight and self._empty is not None:
            waiters = [asyncio.ensure_future(self._empty.wait()), asyncio.ensure_future(self._hurry.wait())]
            try:
                await asyncio.wait(waiters, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
            if self._inflight:
                log.warning(
                    "runner %s: %d messages still running after the %g s grace period go back to the queue",
                    self.id,
                    len(self._inflight),
                    grace,
                )
        batch = self._take_batch(final=True)
        if batch:
            await self._io(self._settle_safely, batch)

    async def _abandon(self) -> None:
        """Whatever is still running goes back to the queue without using an attempt."""
        batch = self._take_batch(final=True)
        for message_id, item in list(self._inflight.items()):
            if isinstance(item, Job):
                item.abandoned = True
            else:
                item.cancel()
            batch.release.append(message_id)
        self._inflight.clear()
        if batch:
            try:
                await self._io(self._settle_safely, batch)
            except Exception:
                log.exception(
                    "runner %s: could not release %d messages; their leases will expire",
                    self.id,
                    len(batch.release),
                )

    async def _heartbeat(self) -> None:
        every = max(0.05, self.options.lease / 3)
        rescue_every = min(self.options.rescue_every, self.options.lease)
        last_rescue = time.monotonic()
        workers = self.registry.names()
        while True:
            try:
                info = RunnerInfo(_HOST, os.getpid(), self.options.slots, list(self._inflight))
                await self._io(self.store.heartbeat, self.id, workers, self.options.lease, info)
                if time.monotonic() - last_rescue >= rescue_every:
                    last_rescue = time.monotonic()
                    if await self._io(self.store.rescue):
                        self.wake()
            except Exception as error:
                log.warning("runner %s: heartbeat failed (%s)", self.id, error)
            await asyncio.sleep(every)

    async def _io(self, fn: Any, *args: Any) -> Any:
        self._io_busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._io_thread, fn, *args)
        finally:
            self._io_busy -= 1


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
