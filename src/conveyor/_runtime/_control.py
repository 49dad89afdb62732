"""How the runner settles a run that ended in handler control (``Incomplete``, ``Retry``, ``Cancel``;
docs/flow-control.md): into the turn's ``Settlement``, with an info line at most, never an error."""

from __future__ import annotations

import logging
from dataclasses import replace

from .._control import snoozed_out
from .._registry import WorkerSpec
from .._stores import Claimed, Settlement
from ._executor import Outcome
from ._policy import checked_delay
from ._settle import storable

__all__ = ["CONTROL", "settle_control"]

log = logging.getLogger("conveyor.runner")

CONTROL = frozenset({"incomplete", "retry", "cancelled"})
"""Outcome kinds of handler control."""


def settle_control(
    batch: Settlement, spec: WorkerSpec, c: Claimed, outcome: Outcome, *, incomplete_delay: float, runner: str
) -> Outcome:
    """Add the run's transition to ``batch``; return the outcome as its trace records it."""
    error = outcome.error or outcome.kind
    if outcome.kind == "incomplete":
        why = snoozed_out(c.snoozes, spec.max_snoozes)
        if why is None:
            delay = incomplete_delay if outcome.delay is None else outcome.delay
            batch.incomplete.append((c.id, delay))
            return outcome
        batch.bury.append((c.id, max(c.attempt - 1, 0), why))  # the attempt is given back, as for any snooze
        _info(runner, c, why)
        return replace(outcome, error=why)
    if outcome.kind == "retry":
        if c.attempt >= spec.max_attempts:
            why = storable(f"{error} on attempt {c.attempt} of {spec.max_attempts}: attempts exhausted")
            batch.bury.append((c.id, c.attempt, why))
            _info(runner, c, why)
            return replace(outcome, error=why)
        if outcome.delay is not None:
            batch.retry.append((c.id, outcome.delay, error))
            return outcome
        delay, problem = checked_delay(spec.backoff, c.attempt)
        if problem is not None:
            error = storable(f"{error}; {problem}")
            outcome = replace(outcome, error=error)
        batch.retry.append((c.id, delay, error))
        return outcome
    batch.bury.append((c.id, c.attempt, error))  # cancelled: the reason is the error
    _info(runner, c, f"cancelled: {error}")
    return outcome


def _info(runner: str, c: Claimed, what: str) -> None:
    if log.isEnabledFor(logging.INFO):
        extra = {"worker": c.worker, "message_id": c.id, "attempt": c.attempt, "runner": runner}
        log.info("message %d (%s) is now a dead letter: %s", c.id, c.worker, what, extra=extra)
