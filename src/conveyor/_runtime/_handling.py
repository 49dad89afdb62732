"""Handlers of a runner: how claimed messages start and how what finished comes back to the loop.

A part of ``Runner`` kept apart by concept: each claimed message is decoded (and loaded into its
worker's event type) and started, an async handler as a task on the runner's loop under one timer per
batch and timeout, a sync one as a job on the thread pool; what finishes is recorded for the next
settle and wakes the loop. A plain handler that returns an awaitable is awaited on the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from .._codec import decode
from .._context import HandlerContext, current
from .._emitter import Emitter
from .._registry import WorkerSpec
from .._stores import Claimed
from ._executor import OK, Job, Outcome, SyncPool, outcome_of, timeout_outcome
from ._handed import clock_skew, handed_message

__all__ = ["Handlers"]


class Handlers:
    """The handler start and finish path of ``Runner`` (a mixin: it uses the runner's loop, pool and
    bookkeeping)."""

    emitter: Emitter
    claimed: int
    _specs: dict[str, WorkerSpec]
    _inflight: dict[int, asyncio.Task[None] | Job]
    _sync_inflight: int
    _pool: SyncPool
    _loop: asyncio.AbstractEventLoop | None
    _expired: set[int]
    _empty: asyncio.Event | None
    _min_sync_timeout: float | None

    if TYPE_CHECKING:  # the runner's own and its other parts' (not defined here: they would shadow them)

        def wake(self) -> None: ...

        def _record(
            self,
            spec: WorkerSpec,
            c: Claimed,
            ctx: HandlerContext,
            outcome: Outcome,
            ran: float | None = None,
        ) -> None: ...

        def _exhausted(self, spec: WorkerSpec, c: Claimed) -> None: ...

        def _arm_watch(self, at: float) -> None: ...

    def _start(self, claimed: list[Claimed], issued: float, answered: float) -> None:
        """Run what was claimed between ``issued`` and ``answered`` (this host's clock)."""
        self.claimed += len(claimed)
        jobs: list[Job] = []
        expiries: dict[float, _Expiry] = {}
        loop = self._loop
        assert loop is not None
        specs = self._specs
        for c in claimed:
            spec = specs[c.worker]
            if c.attempt > spec.max_attempts:
                self._exhausted(spec, c)
                continue
            skew = clock_skew(c.started_at, issued, answered)
            ctx = HandlerContext(
                self.emitter,
                c.id,
                c.worker,
                c.root_id,
                c.chain,
                clock_offset=skew,
                began=answered,
                meta=c.meta,
            )
            try:
                event = decode(c.event)
                given = event if spec.event_type is None else spec.event_type.load(c.event, event)
            except Exception as exc:  # a row not written by emit, or no longer fitting the event type
                self._record(spec, c, ctx, outcome_of(exc))
                continue
            args: tuple[Any, ...] = (given, handed_message(c, event)) if spec.wants_message else (given,)
            if spec.is_async:
                expiry = None
                if spec.timeout is not None:
                    expiry = expiries.get(spec.timeout)
                    if expiry is None:
                        expiry = expiries[spec.timeout] = _Expiry()
                task = loop.create_task(self._handle_async(spec, c, ctx, args, expiry))
                self._inflight[c.id] = task
                if expiry is not None:
                    expiry.tasks[c.id] = task
            else:
                job = Job(spec, c, ctx, args)
                self._inflight[c.id] = job
                jobs.append(job)
        for timeout, expiry in expiries.items():  # one timer per batch and timeout, not per message
            expiry.handle = loop.call_later(timeout, self._expire, expiry)
        if jobs:
            self._sync_inflight += len(jobs)
            self._pool.submit(jobs)
            if self._min_sync_timeout is not None:
                self._arm_watch(time.monotonic() + self._min_sync_timeout)
        if self._inflight and self._empty is not None:
            self._empty.clear()

    async def _handle_async(
        self,
        spec: WorkerSpec,
        c: Claimed,
        ctx: HandlerContext,
        args: Sequence[Any],
        expiry: _Expiry | None,
        *,
        pending: Awaitable[Any] | None = None,
    ) -> None:
        """Run an async handler (or await ``pending``, what a plain callable returned) and record it."""
        current.set(ctx)  # this task runs in a copy of the context
        try:
            result = await (spec.handler(*args) if pending is None else pending)
            outcome = OK if result is None else Outcome("ok", result)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if c.id in self._expired:
                if task is not None:
                    task.uncancel()
                outcome = timeout_outcome(spec)
            elif task is not None and task.cancelling():
                raise  # shutting down: the message is released
            else:  # the handler raised CancelledError itself (nobody cancelled this task)
                outcome = outcome_of(exc)
        except BaseException as exc:
            outcome = outcome_of(exc)
        finally:
            self._expired.discard(c.id)
            if expiry is not None:
                expiry.tasks.pop(c.id, None)
                if not expiry.tasks and expiry.handle is not None:
                    expiry.handle.cancel()
        if self._inflight.pop(c.id, None) is not None:
            self._record(spec, c, ctx, outcome)
            self._settled_one()

    def _expire(self, expiry: _Expiry) -> None:
        """A batch's timeout: cancel its async handlers still running; they fail with ``timeout``."""
        for message_id, task in list(expiry.tasks.items()):
            if not task.done():
                self._expired.add(message_id)
                task.cancel()

    def _sync_done(self, jobs: list[Job]) -> None:
        """On the loop: sync jobs that threads finished (abandoned ones were already settled)."""
        inflight = self._inflight
        now = time.monotonic()
        for job in jobs:
            if job.abandoned:
                continue
            c = job.claimed
            if inflight.pop(c.id, None) is None:
                continue
            self._sync_inflight -= 1
            outcome = job.outcome
            assert outcome is not None
            if outcome.result is not None and inspect.isawaitable(outcome.result):
                self._await_returned(job, outcome.result)
                continue
            # The handler ran since its thread set its deadline (its timeout from then).
            timeout = job.spec.timeout
            ran = None if job.deadline is None or timeout is None else now - job.deadline + timeout
            self._record(job.spec, c, job.ctx, outcome, ran)
        self._settled_one()

    def _await_returned(self, job: Job, pending: Awaitable[Any]) -> None:
        """A handler that is not ``async def`` returned an awaitable (an object with an async
        ``__call__``, an async function under a plain decorator): await it on the loop, as an async
        handler, under the worker's timeout."""
        spec, c = job.spec, job.claimed
        assert self._loop is not None
        expiry = None if spec.timeout is None else _Expiry()
        task = self._loop.create_task(self._handle_async(spec, c, job.ctx, job.args, expiry, pending=pending))
        self._inflight[c.id] = task
        if expiry is not None:
            expiry.tasks[c.id] = task
            expiry.handle = self._loop.call_later(spec.timeout or 0.0, self._expire, expiry)

    def _settled_one(self) -> None:
        self.wake()
        if not self._inflight and self._empty is not None:
            self._empty.set()


class _Expiry:
    """The async handlers of one claimed batch that share a timeout, and the one timer for them."""

    __slots__ = ("handle", "tasks")

    def __init__(self) -> None:
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.handle: asyncio.TimerHandle | None = None
