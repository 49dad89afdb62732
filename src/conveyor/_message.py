"""The records users see: Message, Trace, WorkerStatus, UnknownWorker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["Message", "Outcome", "State", "Trace", "UnknownWorker", "WorkerStatus", "to_datetime"]

State = Literal["queued", "scheduled", "running", "dead"]
Outcome = Literal["ok", "error", "incomplete", "retry", "cancelled", "timeout", "lost"]
"""How a run ended; ``incomplete``, ``retry``, ``cancelled``: the handler raised ``Incomplete``, ``Retry``
or ``Cancel`` (docs/flow-control.md); ``lost``: its lease expired (the runner died or stalled), written
by the rescue."""
STATES: tuple[State, ...] = ("queued", "scheduled", "running", "dead")


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST_SECONDS = _EARLIEST.timestamp()
_LATEST_SECONDS = _LATEST.timestamp()


def to_datetime(seconds: float) -> datetime:
    """Store time (seconds since the epoch) as an aware UTC datetime.

    A time a datetime cannot hold (a row written by hand or by another program: past the year 9999,
    before the year 1, infinite, NaN, not a number at all) is shown as the nearest one it can:
    ``datetime.max`` or ``datetime.min`` in UTC (NaN and the rest as ``datetime.max``: PostgreSQL orders
    NaN after every number).
    """
    if type(seconds) is not float:
        try:
            seconds = float(seconds)
        except (TypeError, ValueError, OverflowError):
            return _LATEST
    if _EARLIEST_SECONDS < seconds < _LATEST_SECONDS:
        return datetime.fromtimestamp(seconds, UTC)
    return _EARLIEST if seconds <= _EARLIEST_SECONDS else _LATEST


@dataclass(frozen=True, slots=True)
class Message:
    """One emitted event, waiting for or being processed by its worker."""

    id: int
    worker: str
    event: Any
    state: State
    enqueued_at: datetime
    run_at: datetime
    attempt: int
    """Attempts used: 0 before the first run, 1 inside the handler on its first run, 2 on the second…"""
    parent_id: int | None
    root_id: int | None
    key: str | None
    last_error: str | None
    snoozes: int
    """Times ``Incomplete`` sent the message back (capped by the worker's ``max_snoozes``)."""
    priority: int
    """-100 to 100, given at emit: higher is claimed first within its worker (then run_at, then id)."""
    group: list[int] | None = None
    """A group's ``then`` message (``emit_many(items, then=...)``): the ids of the group's messages."""
    meta: dict[str, str] = field(default_factory=dict)
    """Set by ``on_emit`` hooks at emit (a W3C ``traceparent``, a tenant): carried through retries and
    snoozes, inherited by messages emitted from its handler (docs/hooks.md)."""


@dataclass(frozen=True, slots=True)
class Trace:
    """The record of one processed message."""

    message_id: int
    worker: str
    event: Any
    outcome: Outcome
    result: Any
    error: str | None
    traceback: str | None
    logs: list[str]
    emitted: list[int]
    attempt: int
    enqueued_at: datetime
    started_at: datetime
    finished_at: datetime

    @property
    def wait(self) -> float:
        """Seconds the message waited in the queue before this run started."""
        return (self.started_at - self.enqueued_at).total_seconds()

    @property
    def duration(self) -> float:
        """Seconds the handler ran."""
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """Counts and rules of one worker (defined, or only emitted to)."""

    name: str
    queued: int
    scheduled: int
    running: int
    dead: int
    paused: bool
    blocked: str | None
    unknown: bool
    rate: str | None = None
    """The worker's rate limit, as ``"100/m"`` (None: none)."""
    rate_limited: bool = False
    """True while its rate holds due messages back (``queued`` of them wait for their turn)."""


@dataclass(frozen=True, slots=True)
class UnknownWorker:
    """A worker name that messages were emitted to but that no running app defines (a "404")."""

    name: str
    count: int
    first_emit: datetime
    last_emit: datetime
    sample_event: Any
