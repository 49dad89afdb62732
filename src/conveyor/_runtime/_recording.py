"""The runner's ledger: what finished becomes the next settle (acks, retries, dead letters, traces).

A part of ``Runner`` kept apart by concept: it turns outcomes into a ``Settlement`` (with the retry
delay, the one log line per failure and the kept trace), hands it out per turn, takes it back when a
settle failed, and settles it safely at the end (a batch the store refuses for its data is settled
message by message).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from .._context import HandlerContext
from .._hooks import Hooks
from .._registry import WorkerSpec
from .._stores import Claimed, ResultRecord, Settlement, Store, TraceRecord
from ._control import CONTROL, settle_control
from ._executor import Outcome, encoded
from ._logs import log_failure
from ._policy import checked_delay
from ._results import kept_result
from ._settle import SETTLED, is_data_error, settle_apart, storable
from ._stats import DEAD, FAILED, RETRIED, StatsTally
from ._traces import TraceBuffer, finished_trace

if TYPE_CHECKING:
    from ._runner import RunnerOptions

__all__ = ["Recorder"]

log = logging.getLogger("conveyor.runner")


class Recorder:
    """Mixed into ``Runner``, which sets these attributes."""

    id: str
    store: Store
    options: RunnerOptions
    processed: int
    _batch: Settlement
    _traces: TraceBuffer
    _stats: StatsTally
    _inflight: Mapping[int, object]
    _hooks: Hooks

    def _record(
        self, spec: WorkerSpec, c: Claimed, ctx: HandlerContext, outcome: Outcome, ran: float | None = None
    ) -> None:
        """``ran``: seconds the handler ran, when known apart from its wait for a thread (sync ones);
        else the time since the claim was answered."""
        batch = self._batch
        kind = outcome.kind
        now = time.time()
        finished = now + ctx.clock_offset  # on the clock of started_at (the store's)
        if kind == "ok" and outcome.result is not None and spec.traces > 0:
            outcome = encoded(outcome)  # a result that cannot be shown fails its message
            kind = outcome.kind
        marks = (
            (len(batch.complete), len(batch.bury))
            if spec.results is not None or c.group_id is not None
            else None
        )
        counted = 0
        if kind == "ok":
            batch.complete.append(c.id)
        elif kind in CONTROL:
            buried = len(batch.bury)
            outcome = settle_control(
                batch, spec, c, outcome, incomplete_delay=self.options.incomplete_delay, runner=self.id
            )
            counted = 0 if kind == "incomplete" else FAILED | RETRIED
            if len(batch.bury) > buried:
                counted = (counted & FAILED) | DEAD
        else:
            error = outcome.error or kind
            if c.attempt >= spec.max_attempts or outcome.final:
                batch.bury.append((c.id, c.attempt, error))
                delay = None
                counted = FAILED | DEAD
            else:
                counted = FAILED | RETRIED
                delay, problem = checked_delay(spec.backoff, c.attempt)
                if problem is not None:
                    error = storable(f"{error}; {problem}")
                    outcome = replace(outcome, error=error)
                batch.retry.append((c.id, delay, error))
            if log.isEnabledFor(logging.WARNING):
                log_failure(self.id, c, spec, error, delay)
        self.processed += 1
        run = now - ctx.began if ran is None else ran
        self._stats.add(c.worker, finished - run - c.run_at, run, finished, counted)
        if marks is not None and (len(batch.complete) > marks[0] or len(batch.bury) > marks[1]):
            if spec.results is not None:
                batch.results.append(kept_result(batch, spec, c, outcome, marks))
            if c.group_id is not None:
                batch.grouped.append(c.id)
        if spec.traces > 0:
            self._traces.add(spec.traces, c, ctx, outcome, finished)
        if self._hooks.finish:
            self._hooks.finished(finished_trace(c, ctx, outcome))

    def _exhausted(self, spec: WorkerSpec, c: Claimed) -> None:
        """A message whose runs all ended with a lost lease: a dead letter, without running it again."""
        error = c.last_error or "attempts exhausted"
        self._batch.bury.append((c.id, c.attempt - 1, error))
        if spec.results is not None:
            self._batch.results.append(ResultRecord(c.id, c.worker, "dead", None, False, error, spec.results))
        if c.group_id is not None:
            self._batch.grouped.append(c.id)
        log_failure(self.id, c, spec, error, None, attempt=c.attempt - 1)
        self._stats.dead_unrun(c.worker, c.started_at)
        if spec.traces > 0:
            now = c.started_at  # claimed and buried at once, on the store's clock like every started_at
            self._traces.add_record(
                TraceRecord(
                    c.id,
                    c.worker,
                    "error",
                    c.event,
                    None,
                    error,
                    None,
                    [],
                    [],
                    c.attempt - 1,
                    c.enqueued_at,
                    now,
                    now,
                    spec.traces,
                )
            )

    def _settle(self, batch: Settlement) -> None:
        self.store.settle(self.id, batch)

    def _settle_safely(self, batch: Settlement) -> None:
        """On the store thread: settle; a batch refused for its data is settled message by message."""
        try:
            self.store.settle(self.id, batch)
        except Exception as error:
            if not is_data_error(error):
                raise
            settle_apart(self._settle, batch, error)

    def _take_batch(self, final: bool = False) -> Settlement:
        """What to settle now; kept traces go along when due, and always once nothing is running; stats
        every ``FLUSH_EVERY`` seconds, and at the end."""
        batch, self._batch = self._batch, Settlement()
        if self._traces.due(idle=final or not self._inflight):
            batch.traces.extend(self._traces.take())
        if self._stats.pending:
            now = time.monotonic()
            if final or self._stats.due(now):
                batch.stats.extend(self._stats.take(now))
        return batch

    def _restore(self, batch: Settlement) -> None:
        """A settle that failed: keep its contents for the next turn."""
        for name in SETTLED:
            getattr(self._batch, name)[:0] = getattr(batch, name)
