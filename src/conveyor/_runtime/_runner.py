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

from .._codec import decode, encode_result
from .._context import HandlerContext
from .._emitter import Emitter
from .._message import Message, to_datetime
from .._registry import Registry, WorkerSpec
from .._stores import Claimed, Settlement, Store, TraceRecord
from ._executor import Executor, Outcome
from ._logs import capture_logs
from ._policy import retry_delay

__all__ = ["Runner", "RunnerOptions"]

log = logging.getLogger("conveyor.runner")
T = TypeVar("T")
DEFAULT_SLOTS = 50


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    slots: int = DEFAULT_SLOTS
    """Messages this runner runs at once (sync handlers get as many threads)."""
    lease: float = 30.0
    incomplete_delay: float = 300.0
    max_claim: int = 500
    """Most messages claimed in one statement."""
    poll: float = 1.0
    """Longest an idle runner waits before it looks at the store again without a wake-up hint."""
    rescue_every: float = 5.0


class Runner:
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
        self.processed = 0
        self._limits = registry.limits()
        self._batch = Settlement()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._executor = Executor(self.options.slots)
        self._io_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="conveyor-store")
        self._wake: asyncio.Event | None = None

    # -- public faces ----------------------------------------------------------------------------
    async def drain(self) -> int:
        """Run until nothing this runner may claim is left; return how many messages were handled."""
        return await self._main(stop=None)

    async def serve(self, stop: asyncio.Event, grace: float = 30.0) -> int:
        """Run until ``stop`` is set; then finish in-flight messages within ``grace`` seconds."""
        return await self._main(stop=stop, grace=grace)

    def wake(self) -> None:
        """A hint that messages may be ready (an emit, a rule change). Safe from the loop thread only."""
        if self._wake is not None:
            self._wake.set()

    # -- the loop --------------------------------------------------------------------------------
    async def _main(self, stop: asyncio.Event | None, grace: float = 30.0) -> int:
        self._wake = asyncio.Event()
        heart = asyncio.create_task(self._heartbeat(), name="conveyor-heartbeat")
        try:
            with capture_logs():
                await self._io(self.store.rescue)
                await self._loop(stop)
                if stop is not None:
                    await self._finish(grace)
        finally:
            heart.cancel()
            await self._abandon()
            self._executor.shutdown(wait=False)
            try:
                self.store.leave(self.id)
            except Exception:
                log.exception("runner %s: could not sign off from the store", self.id)
            self._io_thread.shutdown(wait=True)
        return self.processed

    async def _loop(self, stop: asyncio.Event | None) -> None:
        wake = self._wake
        assert wake is not None
        failures = 0
        while stop is None or not stop.is_set():
            wake.clear()
            batch = self._take_batch()
            free = self.options.slots - len(self._inflight) - self._executor.stuck
            want = min(free, self.options.max_claim)
            try:
                claimed = await self._io(self._exchange, batch, want)
            except Exception as error:
                self._restore(batch)
                failures += 1
                pause = min(5.0, 0.05 * 2**failures)
                log.warning("runner %s: store unavailable (%s); retrying in %.2f s", self.id, error, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            for c in claimed:
                self._start(c)
            if want and len(claimed) == want:
                continue  # there may be more
            if stop is None and not self._inflight:
                if not claimed and not batch and not self._batch:
                    return  # drained: nothing settled, claimed, running or waiting to be settled
                continue  # what was just settled may be due again (a retry without backoff)
            await self._wait(wake, stop)

    async def _wait(self, wake: asyncio.Event, stop: asyncio.Event | None) -> None:
        if wake.is_set():
            return
        waiters = [asyncio.ensure_future(wake.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        timeout = self.options.poll if stop is not None else None
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    def _exchange(self, batch: Settlement, want: int) -> list[Claimed]:
        """On the store thread: settle what finished, then claim for the free slots."""
        if batch:
            self.store.settle(self.id, batch)
        if want <= 0:
            return []
        return self.store.claim(self.id, self._limits, want, self.options.lease)

    async def _finish(self, grace: float) -> None:
        """Stopping: let in-flight handlers finish within ``grace``, then settle what finished."""
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=grace)
        batch = self._take_batch()
        if batch:
            await self._io(self.store.settle, self.id, batch)

    async def _abandon(self) -> None:
        """Whatever is still running goes back to the queue without using an attempt."""
        batch = self._take_batch()
        for message_id, task in list(self._inflight.items()):
            task.cancel()
            batch.release.append(message_id)
        self._inflight.clear()
        if batch:
            try:
                self.store.settle(self.id, batch)
            except Exception:
                log.exception("runner %s: could not release %d messages; their leases will expire",
                              self.id, len(batch.release))

    async def _heartbeat(self) -> None:
        every = max(0.05, self.options.lease / 3)
        last_rescue = time.monotonic()
        workers = self.registry.names()
        while True:
            try:
                await self._io(self.store.heartbeat, self.id, workers, self.options.lease)
                if time.monotonic() - last_rescue >= self.options.rescue_every:
                    last_rescue = time.monotonic()
                    if await self._io(self.store.rescue):
                        self.wake()
            except Exception as error:
                log.warning("runner %s: heartbeat failed (%s)", self.id, error)
            await asyncio.sleep(every)

    async def _io(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io_thread, fn, *args)

    # -- one message -----------------------------------------------------------------------------
    def _start(self, c: Claimed) -> None:
        task = asyncio.create_task(self._handle(c))
        self._inflight[c.id] = task

    async def _handle(self, c: Claimed) -> None:
        try:
            spec = self.registry[c.worker]
            if c.attempt > spec.max_attempts:
                self._exhausted(spec, c)
                return
            ctx = HandlerContext(self.emitter, c.id, c.worker, c.root_id, c.chain)
            event = decode(c.event)
            args: tuple[Any, ...] = (event, _message(c, event)) if spec.wants_message else (event,)
            outcome = await self._executor.execute(spec, args, ctx)
            self._record(spec, c, ctx, outcome)
        finally:
            self._inflight.pop(c.id, None)
            if self._wake is not None:
                self._wake.set()

    def _record(self, spec: WorkerSpec, c: Claimed, ctx: HandlerContext, outcome: Outcome) -> None:
        batch = self._batch
        kind = outcome.kind
        if kind == "ok":
            batch.complete.append(c.id)
        elif kind == "incomplete":
            batch.incomplete.append((c.id, self.options.incomplete_delay))
        elif c.attempt >= spec.max_attempts:
            batch.bury.append((c.id, c.attempt, outcome.error or kind))
        else:
            batch.retry.append((c.id, retry_delay(spec.backoff, c.attempt), outcome.error or kind))
        self.processed += 1
        if spec.traces > 0:
            batch.traces.append(
                TraceRecord(
                    message_id=c.id,
                    worker=c.worker,
                    outcome=kind,
                    event=c.event,
                    result=encode_result(outcome.result),
                    error=outcome.error,
                    traceback=outcome.traceback,
                    logs=ctx.logs,
                    emitted=ctx.emitted,
                    attempt=c.attempt,
                    enqueued_at=c.enqueued_at,
                    started_at=c.started_at,
                    finished_at=time.time(),
                    keep=spec.traces,
                )
            )

    def _exhausted(self, spec: WorkerSpec, c: Claimed) -> None:
        """A message whose runs all ended with a lost lease: a dead letter, without running it again."""
        error = c.last_error or "attempts exhausted"
        self._batch.bury.append((c.id, c.attempt - 1, error))
        if spec.traces > 0:
            now = time.time()
            self._batch.traces.append(
                TraceRecord(c.id, c.worker, "error", c.event, None, error, None, [], [], c.attempt - 1,
                            c.enqueued_at, now, now, spec.traces)
            )

    def _take_batch(self) -> Settlement:
        batch, self._batch = self._batch, Settlement()
        return batch

    def _restore(self, batch: Settlement) -> None:
        """A settle that failed: keep its contents for the next turn."""
        for name in ("complete", "retry", "incomplete", "bury", "release", "traces"):
            getattr(self._batch, name)[:0] = getattr(batch, name)


def _message(c: Claimed, event: Any) -> Message:
    return Message(
        id=c.id,
        worker=c.worker,
        event=event,
        state="running",
        enqueued_at=to_datetime(c.enqueued_at),
        run_at=to_datetime(c.run_at),
        attempt=c.attempt,
        parent_id=c.parent_id,
        root_id=c.root_id,
        key=c.key,
        last_error=c.last_error,
    )
