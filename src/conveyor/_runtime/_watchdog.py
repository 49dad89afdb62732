"""Sync handlers' timeouts: one timer on the runner's loop, armed only while sync handlers run or are
stuck. A handler past its timeout is recorded as timed out and its thread written off; one that keeps
its thread past a grace period makes the runner retire (a fresh process replaces it)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from .._registry import WorkerSpec
from ._executor import Job, SyncPool, timeout_outcome

if TYPE_CHECKING:
    from ._runner import RunnerOptions

__all__ = ["RETIRE_STUCK", "Watchdog"]

log = logging.getLogger("conveyor.runner")

RETIRE_STUCK = "stuck"


class Watchdog:
    """The timeout watchdog of ``Runner`` (a mixin: it uses the runner's pool, loop and bookkeeping)."""

    id: str
    options: RunnerOptions
    exit_reason: str | None
    _pool: SyncPool
    _loop: asyncio.AbstractEventLoop | None
    _watch_timer: asyncio.TimerHandle | None
    _inflight: dict[int, Any]
    _sync_inflight: int
    _min_sync_timeout: float | None

    if TYPE_CHECKING:  # the runner's own (not defined here: they would shadow the runner's bases)

        def _retire(self, reason: str) -> None: ...

        def _record(
            self, spec: WorkerSpec, c: Any, ctx: Any, outcome: Any, ran: float | None = None
        ) -> None: ...

        def _settled_one(self) -> None: ...

    def _watch(self) -> None:
        """Time out sync handlers; retire the runner when a timed-out one keeps its thread too long.

        A timer callback on the loop, armed only while sync handlers run or are stuck."""
        self._watch_timer = None
        pool = self._pool
        now = time.monotonic()
        next_at: float | None = None
        for job in list(pool.running.values()):
            if job.abandoned or job.deadline is None:
                continue
            if job.deadline <= now:
                self._timed_out(job)
            else:
                next_at = job.deadline if next_at is None else min(next_at, job.deadline)
        for job in list(pool.stuck.values()):
            assert job.stuck_at is not None
            limit = job.stuck_at + self._stuck_grace(job.spec)
            if limit <= now:
                if self.exit_reason is None:
                    log.error(
                        "runner %s: a %r handler is still running %g s past its timeout; "
                        "this runner will be replaced",
                        self.id,
                        job.spec.name,
                        now - job.stuck_at,
                    )
                self._retire(RETIRE_STUCK)
            else:
                next_at = limit if next_at is None else min(next_at, limit)
        if self._sync_inflight and self._min_sync_timeout is not None:
            # a queued job starts later, with a deadline at least this far away
            soon = now + self._min_sync_timeout
            next_at = soon if next_at is None else min(next_at, soon)
        if next_at is not None:
            self._arm_watch(next_at)

    def _arm_watch(self, at: float) -> None:
        timer = self._watch_timer
        if timer is not None:
            if timer.when() <= at:
                return
            timer.cancel()
        assert self._loop is not None
        self._watch_timer = self._loop.call_at(at, self._watch)

    def _stuck_grace(self, spec: WorkerSpec) -> float:
        if self.options.stuck_grace is not None:
            return self.options.stuck_grace
        return min(30.0, max(1.0, spec.timeout or 1.0))

    def _timed_out(self, job: Job) -> None:
        c = job.claimed
        if self._inflight.pop(c.id, None) is None:
            return
        self._pool.write_off(job)
        self._sync_inflight -= 1
        log.warning(
            "runner %s: message %d (%s) passed its timeout of %g s; its thread is written off",
            self.id,
            c.id,
            c.worker,
            job.spec.timeout or 0,
        )
        self._record(job.spec, c, job.ctx, timeout_outcome(job.spec))
        self._settled_one()
