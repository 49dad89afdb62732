"""What ``app.runners()`` and ``app.stats()`` report: the runners the store knows of, and the
per-minute stats the runners keep (docs/reference.md#runners-and-stats)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._histogram import percentile
from ._message import to_datetime
from ._registry import check_worker_name
from ._stores import Store
from ._stores._base import RUNNER_TTL, StatsRow

__all__ = ["MAX_MINUTES", "RunnerStatus", "StatsBucket", "check_minutes", "runner_statuses", "stats_buckets"]

MAX_MINUTES = 1440
"""The most minutes ``stats`` reads back (a day; rows are kept 25 hours)."""

RunnerState = Literal["live", "lost"]


@dataclass(frozen=True, slots=True)
class RunnerStatus:
    """A runner as its last heartbeat recorded it. ``state``: ``"live"``, or ``"lost"`` when it has
    not heartbeated for the runner TTL (30 s; it died or stalled): shown until no message runs under it
    any more (its leases expired and were rescued), then forgotten. A runner that stops cleanly leaves
    at once. ``running``: how many messages it runs now (its busy slots), ``running_ids`` their ids."""

    id: str
    host: str | None
    pid: int | None
    started_at: datetime
    last_seen: datetime
    slots: int | None
    running: int
    running_ids: list[int]
    workers: list[str]
    state: RunnerState


@dataclass(frozen=True, slots=True)
class StatsBucket:
    """One worker's work over one minute, added up across every runner and host. ``worker`` None: every
    worker together (``app.stats()`` without a worker adds one such total per minute).

    ``processed``: handler runs that ended in the minute, whatever their outcome; ``failed``: those that
    failed (an exception, a timeout, ``Retry`` or ``Cancel``); ``retried``: failed runs that go back for
    another attempt; ``dead``: messages that became dead letters. ``wait_*``: seconds from when a
    message fell due (its ``run_at``) to its start; ``run_*``: seconds its handler ran; p50 and p95
    read from a histogram (within 9 %), None without runs."""

    worker: str | None
    minute: datetime
    processed: int
    failed: int
    retried: int
    dead: int
    wait_p50: float | None
    wait_p95: float | None
    run_p50: float | None
    run_p95: float | None


def runner_statuses(store: Store) -> list[RunnerStatus]:
    ttl = float(getattr(store, "runner_ttl", RUNNER_TTL))
    return [
        RunnerStatus(
            id=r.id,
            host=r.host,
            pid=r.pid,
            started_at=to_datetime(r.started_at),
            last_seen=to_datetime(r.seen_at),
            slots=r.slots,
            running=len(r.running),
            running_ids=sorted(r.running),
            workers=sorted(r.workers),
            state="lost" if r.age > ttl else "live",
        )
        for r in store.runners()
    ]


def check_minutes(minutes: object) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be an int from 1 to {MAX_MINUTES}, not {minutes!r:.40}")
    return minutes


def stats_buckets(store: Store, worker: str | None, minutes: int) -> list[StatsBucket]:
    """Minutes with work only, oldest first; without ``worker``, each minute's total (worker None, read
    from the store's totals: worker ``""``) first, then its workers by name."""
    if worker is not None:
        check_worker_name(worker)
    rows = store.stats(worker, check_minutes(minutes))
    return [_bucket(r.worker or None, r) for r in rows]


def _bucket(worker: str | None, r: StatsRow) -> StatsBucket:
    return StatsBucket(
        worker=worker,
        minute=to_datetime(float(r.minute)),
        processed=r.processed,
        failed=r.failed,
        retried=r.retried,
        dead=r.dead,
        wait_p50=percentile(r.wait, 0.5),
        wait_p95=percentile(r.wait, 0.95),
        run_p50=percentile(r.run, 0.5),
        run_p95=percentile(r.run, 0.95),
    )
