"""The store protocol: the only shared state, with one method per message transition.

Every method is a short, bounded transaction and blocking; the runtime calls them from one store
thread per runner, so a slow database never stalls the event loop that runs async handlers.
Times are seconds since the epoch on the store's clock; the store computes ``now`` itself so that
many hosts agree on one clock (PostgreSQL's) rather than on each host's.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._message import Message, State, Trace, UnknownWorker
from .._rates import Rate
from ._browse import Browsed
from ._series import Point

__all__ = [
    "RUNNER_TTL",
    "Claimed",
    "DueTicks",
    "NewMessage",
    "RateState",
    "ResultRecord",
    "ResultRow",
    "RunnerInfo",
    "RunnerRow",
    "ScheduleDef",
    "ScheduleState",
    "Settlement",
    "StatsRow",
    "Store",
    "StoreCounts",
    "TraceRecord",
    "Wakeups",
    "claimed_in_order",
]


RUNNER_TTL = 30.0
"""Seconds a runner unseen for this long no longer counts as defining its workers."""


@dataclass(slots=True)
class NewMessage:
    """One message to enqueue. ``event`` is already-encoded JSON."""

    worker: str
    event: bytes
    delay: float = 0.0
    key: str | None = None
    parent_id: int | None = None
    root_id: int | None = None
    chain: str | None = None
    """Worker names on the emit chain above this message (newline-separated); loop protection uses it."""
    looped: bool = False
    """True when ``worker`` is already on ``chain``: the emit went back into a worker of its own chain."""
    priority: int = 0
    """-100 to 100, higher claimed first within a worker (then run_at, then id)."""
    meta: str | None = None
    """``Message.meta`` as JSON text (None: empty), set by ``on_emit`` hooks or inherited from a parent."""
    outgoing: Any = None
    """What ``on_emit`` hooks saw (``_hooks.OutgoingMessage``), until the write's outcome is told."""

    def row(self, now: float) -> tuple[Any, ...]:
        """The enqueue statements' parameters, emitted at ``now``: worker, event, enqueued_at, run_at,
        parent_id, root_id, chain, looped, priority (the keyed and group ones take one more); ``meta`` is
        written apart (``set_meta.sql``), so that a message without it costs nothing more."""
        return (
            self.worker,
            self.event,
            now,
            now + self.delay,
            self.parent_id,
            self.root_id,
            self.chain,
            self.looped,
            self.priority,
        )


@dataclass(slots=True)
class Claimed:
    """A message a runner has just claimed (state running, attempt already counted)."""

    id: int
    worker: str
    event: str
    enqueued_at: float
    run_at: float
    attempt: int
    parent_id: int | None
    root_id: int | None
    key: str | None
    last_error: str | None
    chain: str | None
    started_at: float
    snoozes: int
    """Times ``Incomplete`` sent the message back so far (before this run)."""
    priority: int
    group_id: int | None = None
    """The group (fan-in) this message is a member of: its finish counts down the group."""
    group_ids: str | None = None
    """A group's ``then`` message: the members' ids as a JSON array."""
    meta: str | None = None
    """``Message.meta`` as JSON text (None: empty)."""


_RUN_ORDER = operator.itemgetter(4, 0)  # a claim row's run_at, id
_PRIORITY = operator.itemgetter(13)  # a claim row's priority


def claimed_in_order(rows: list[Any]) -> list[Claimed]:
    """A claim's rows (``Claimed``'s fields in order) as the runner starts them: priority (highest
    first), then run_at, then id. The priority sort runs only when a row has a priority other than 0."""
    rows.sort(key=_RUN_ORDER)
    if any(map(_PRIORITY, rows)):
        rows.sort(key=_PRIORITY, reverse=True)  # stable: run_at, id stay in order within a priority
    return [Claimed(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class RateState:
    """A rate-limited worker's bucket as the store keeps it (``_rates.py``)."""

    worker: str
    n: int
    period: float
    """The rate the last claim that started its messages ran under: ``n`` starts per ``period``."""
    wait: float
    """Seconds until the bucket allows a start (zero or less: it does now)."""


@dataclass(slots=True)
class TraceRecord:
    message_id: int
    worker: str
    outcome: str
    event: str
    result: str | None
    error: str | None
    traceback: str | None
    logs: list[str]
    emitted: list[int]
    attempt: int
    enqueued_at: float
    started_at: float
    finished_at: float
    keep: int
    """How many traces (and, apart, how many failures) the worker keeps."""


@dataclass(slots=True)
class ResultRecord:
    """A finished message's outcome to keep (workers with ``results=``), written with its settle."""

    message_id: int
    worker: str
    outcome: str
    """``"ok"``, ``"dead"`` or ``"cancelled"``."""
    value: str | None
    """``ok``: the return value as JSON text (its repr as a JSON string when ``is_repr``)."""
    is_repr: bool
    error: str | None
    """``dead`` and ``cancelled``: the last error."""
    keep: float
    """Seconds to keep it."""


@dataclass(frozen=True, slots=True)
class ResultRow:
    """What the store knows of one message id: its message (state and last error, None when it has no
    row) and its kept, unexpired outcome (``outcome`` None when there is none)."""

    message_id: int
    state: str | None
    last_error: str | None
    outcome: str | None
    value: str | None
    is_repr: bool
    error: str | None
    finished_at: float | None


@dataclass(slots=True)
class StatsRow:
    """One worker's counts and durations over one minute (``_stats.py``): what a runner adds to the
    store's row for that worker and minute, in a settle. Histograms: bucket index -> count
    (``_histogram.py``)."""

    worker: str
    minute: int
    """The minute's start, in whole seconds since the epoch (on the store's clock)."""
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead: int = 0
    wait: dict[int, int] = field(default_factory=dict)
    run: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunnerInfo:
    """What a runner's heartbeat records of it besides its workers."""

    host: str
    pid: int
    slots: int
    running: list[int]
    """The ids of the messages it runs now."""


@dataclass(frozen=True, slots=True)
class RunnerRow:
    """A runner as the store keeps it. ``age``: seconds since its last heartbeat, on the store's clock."""

    id: str
    host: str | None
    pid: int | None
    workers: list[str]
    started_at: float
    seen_at: float
    slots: int | None
    running: list[int]
    age: float


@dataclass(slots=True)
class Settlement:
    """What a runner learned since its last flush, applied in one transaction (group commit)."""

    complete: list[int] = field(default_factory=list)
    retry: list[tuple[int, float, str]] = field(default_factory=list)
    """(id, delay seconds, last_error): back to the queue, the attempt stays used."""
    incomplete: list[tuple[int, float]] = field(default_factory=list)
    """(id, delay seconds): back to the queue, the attempt is given back."""
    bury: list[tuple[int, int, str]] = field(default_factory=list)
    """(id, attempt, last_error): a dead letter."""
    release: list[int] = field(default_factory=list)
    """Claimed but not finished (shutdown): back to the queue at once, the attempt given back."""
    traces: list[TraceRecord] = field(default_factory=list)
    results: list[ResultRecord] = field(default_factory=list)
    """Outcomes to keep, of messages this settle completes or buries (workers with ``results=``)."""
    grouped: list[int] = field(default_factory=list)
    """Members of groups that this settle completes or buries: each leaves its group, and the last one
    of a group emits the group's ``then`` message, in the same transaction."""
    stats: list[StatsRow] = field(default_factory=list)
    """Per-minute stats the runner gathered since its last flush, added to the store's rows (a few
    times a minute at most, not with every settle)."""

    def __bool__(self) -> bool:
        return bool(
            self.complete
            or self.retry
            or self.incomplete
            or self.bury
            or self.release
            or self.traces
            or self.results
            or self.grouped
            or self.stats
        )

    def due_again(self) -> bool:
        """Whether it puts messages back that are due at once (or may emit a group's ``then`` message):
        idle runners elsewhere should look."""
        return bool(
            self.release
            or self.grouped
            or any(d <= 0 for _, d, _ in self.retry)
            or any(d <= 0 for _, d in self.incomplete)
        )


@dataclass(frozen=True, slots=True)
class StoreCounts:
    worker: str
    queued: int
    scheduled: int
    running: int
    dead: int
    paused: bool
    blocked: str | None


@dataclass(frozen=True, slots=True)
class ScheduleDef:
    """A schedule's definition as runners publish it (the event stays in the app's code)."""

    name: str
    worker: str
    cron: str | None
    every: float | None
    tz: str
    misfire: str


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What outlives the runners: paused, the newest tick emitted, and since when the schedule is known."""

    name: str
    paused: bool
    last_at: float | None
    since: float


@dataclass(frozen=True, slots=True)
class DueTicks:
    """One schedule's ticks to emit (oldest first, each with its message) and ``upto``: the newest tick
    considered, emitted or skipped, which becomes the schedule's ``last_at``."""

    name: str
    upto: float
    ticks: list[tuple[float, NewMessage]]


class Wakeups(Protocol):
    """Hints that the store changed (an emit, a rule change, a settle), without busy polling.

    A hint may be spurious or coalesced; a runner treats it only as "look now". SQLite watches the
    database file; PostgreSQL uses LISTEN/NOTIFY.
    """

    async def wait(self, timeout: float) -> bool:
        """Return True on a hint, False when ``timeout`` seconds passed without one."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    """A message store. SQLite and PostgreSQL implement it and pass one contract suite."""

    url: str

    # -- the message's life ---------------------------------------------------------------------
    def enqueue(self, messages: Sequence[NewMessage], conn: Any = None) -> list[int]:
        """Insert messages in one transaction; a ``key`` already queued or running returns that id.

        ``conn``: a caller's open connection to enqueue inside its transaction (PostgreSQL only).
        """
        ...

    def enqueue_nowait(self, message: NewMessage) -> int | None:
        """Insert one message without a key, as ``enqueue`` does, if that can be done at once: no lock to
        wait for, no network round trip, no sync to disk. None when it cannot (nothing is written): the
        caller then writes it with ``enqueue`` on a thread. ``aemit`` calls this on the event loop."""
        ...

    def enqueue_group(self, members: Sequence[NewMessage], then: NewMessage) -> list[int]:
        """Insert a group's members (none with a key) and record its ``then`` message, in one
        transaction; the settle of the last member to finish emits ``then``. Returns the members' ids."""
        ...

    def claim(
        self,
        runner: str,
        limits: Mapping[str, int | None],
        limit: int,
        lease: float,
        *,
        rates: Mapping[str, Rate] | None = None,
    ) -> list[Claimed]:
        """Atomically take up to ``limit`` due messages of the named workers, oldest ``run_at`` first.

        ``limits`` maps worker -> global concurrency cap (None: none). Paused and blocked workers are
        skipped; a capped worker never has more than its cap running across all runners. ``rates`` maps
        rate-limited workers to their rate: the claim starts no more of their messages than their bucket
        allows now, and moves the bucket on by what it started, in the same transaction.
        """
        ...

    def settle(self, runner: str, batch: Settlement) -> None:
        """Apply completions, retries, dead letters, releases and traces in one transaction."""
        ...

    def heartbeat(
        self, runner: str, workers: Sequence[str], lease: float, info: RunnerInfo | None = None
    ) -> None:
        """Renew the leases of the runner's running messages and record it as alive (with ``info``:
        its host, pid, slots and the messages it runs now)."""
        ...

    def rescue(self) -> int:
        """Return messages whose lease expired to the queue (the attempt stays used). Returns how many."""
        ...

    def leave(self, runner: str) -> None:
        """Forget a runner that stopped cleanly."""
        ...

    # -- rules ----------------------------------------------------------------------------------
    def set_paused(self, worker: str, paused: bool) -> None: ...

    def set_blocked(self, worker: str, reason: str | None) -> None: ...

    def loop_count(self, root_id: int, worker: str, cap: int) -> int:
        """Outstanding looped messages of ``worker`` under ``root_id``, counted up to ``cap``."""
        ...

    def next_due(self, workers: Sequence[str], margin: float) -> float | None:
        """Seconds until the earliest queued message of ``workers`` (not paused or blocked) whose
        ``run_at`` is later than ``margin`` seconds ago falls due (None: none), for an idle runner's
        sleep: it wakes for that message rather than at its next poll."""
        ...

    def rate_wait(self, workers: Sequence[str]) -> float | None:
        """Seconds until the first rate-limited worker of ``workers`` (not paused or blocked) that holds
        due messages back allows its next start (None: none holds any back; zero or less: one allows a
        start now), for an idle runner's sleep."""
        ...

    # -- reading --------------------------------------------------------------------------------
    def rate_states(self) -> list[RateState]:
        """Every rate-limited worker's bucket, by worker name."""
        ...

    def counts(self) -> list[StoreCounts]:
        """Per worker with messages or rules: counts by state, and its rules."""
        ...

    def unknown(self, defined: Sequence[str]) -> list[UnknownWorker]:
        """Workers with messages that are not in ``defined``."""
        ...

    def live_workers(self) -> set[str]:
        """Worker names that live runners (recent heartbeat) define."""
        ...

    def messages(self, worker: str | None, state: State | None, limit: int) -> list[Message]: ...

    def message(self, message_id: int) -> Message | None:
        """One message by id (queued, scheduled, running or dead); None when there is none."""
        ...

    def traces(self, worker: str) -> list[Trace]: ...

    def stats_series(self, worker: str | None, since: int, until: int, step: int) -> dict[int, Point]:
        """The dashboard's charts: per step of ``step`` seconds over the minutes from ``since`` to before
        ``until`` (Unix seconds), of one worker or all together, the runs finished and failed and the
        merged wait histogram."""
        ...

    def stats_sums(self, since: int, until: int) -> list[tuple[int, str, int, int]]:
        """(minute, worker, processed, failed) of the minutes from ``since`` to before ``until``."""
        ...

    def browse(
        self,
        worker: str,
        state: State,
        after: tuple[float, int] | None,
        *,
        text: str | None,
        limit: int,
        scan: int,
    ) -> Browsed:
        """A page of ``worker``'s messages in ``state`` after the cursor ``after`` (keyset; ``_browse.py``):
        with ``text``, those whose key equals it or whose event contains it among the next ``scan``."""
        ...

    # -- operator actions -----------------------------------------------------------------------
    def cancel(self, message_id: int) -> bool: ...

    def purge(self, worker: str) -> int: ...

    def retry_dead(self, message_id: int | None, worker: str | None) -> int: ...

    def discard_dead(self, message_id: int | None, worker: str | None) -> int: ...

    # -- schedules (docs/schedules.md) ----------------------------------------------------------
    def publish_schedules(self, runner: str, schedules: Sequence[ScheduleDef]) -> None:
        """Record (again) that ``runner`` defines these schedules; a schedule seen for the first time is
        known from now. Forgets the definitions of runners unseen for the runner TTL."""
        ...

    def unpublish_schedules(self, runner: str) -> None:
        """Forget the schedules of a runner that stopped."""
        ...

    def live_schedules(self) -> list[ScheduleDef]:
        """Schedules that live runners define, one per name (the most recently published)."""
        ...

    def schedule_states(self) -> list[ScheduleState]: ...

    def set_schedule_paused(self, name: str, paused: bool) -> None: ...

    def emit_ticks(self, due: Sequence[DueTicks]) -> list[int]:
        """In one transaction, for each schedule that is known and not paused: emit each tick later than
        its ``last_at`` that has no tick record yet, writing the record with the message, and move
        ``last_at`` to ``upto``. Returns the new messages' ids."""
        ...

    def wakeups(self) -> Wakeups:
        """A new source of change hints for one runner's loop (closed by the runner)."""
        ...

    # -- results (docs/results.md) --------------------------------------------------------------
    def results(self, message_ids: Sequence[int]) -> list[ResultRow]:
        """One row per id: its message's state and its kept, unexpired outcome."""
        ...

    def prune_results(self, limit: int) -> int:
        """Remove at most ``limit`` expired outcomes; return how many."""
        ...

    def result_wakeups(self) -> Wakeups:
        """Hints that outcomes were kept (a settle with results committed, in any process)."""
        ...

    def schema_version(self) -> int:
        """The version of the store's schema (its last migration applied)."""
        ...

    # -- runners and stats (docs/reference.md#runners-and-stats) --------------------------------
    def runners(self) -> list[RunnerRow]:
        """Every runner the store knows of (live or lost), by id."""
        ...

    def prune_runners(self, ttl: float) -> int:
        """Forget runners unseen for ``ttl`` seconds that no running message names any more (their
        leases expired and were rescued); return how many."""
        ...

    def stats(self, worker: str | None, minutes: int) -> list[StatsRow]:
        """The stats rows of the last ``minutes`` minutes (the current one included), of one worker or
        of all, by minute then worker; of all, each minute's total (every worker's rows added, worker
        ``""``) first."""
        ...

    def prune_stats(self, keep: float, limit: int) -> int:
        """Remove at most ``limit`` stats rows, and at most ``limit`` minutes' totals, of minutes older
        than ``keep`` seconds; return how many."""
        ...

    def close(self) -> None: ...
