"""Traces held back in the runner and written only for what a worker keeps.

A worker keeps its newest ``traces`` traces and, apart from them, its newest ``traces`` failures. Writing
every trace and pruning at once would cost a row insert and delete per message; instead the runner
holds the newest ones per worker in memory (two bounded deques) and hands them to a settle at most a
few times a second, and always when nothing is running any more (so ``drain`` and an idle runner have
written everything).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from .._context import HandlerContext
from .._message import Trace, to_datetime
from .._stores import Claimed, TraceRecord
from .._stores._rows import stored_json
from ._executor import Outcome

__all__ = ["FLUSH_EVERY", "TraceBuffer", "finished_trace"]

FLUSH_EVERY = 0.25
"""Seconds between trace writes while messages keep running."""

_Entry = tuple[int, Any]


class TraceBuffer:
    def __init__(self) -> None:
        self._newest: dict[str, deque[_Entry]] = {}
        self._failed: dict[str, deque[_Entry]] = {}
        self._seq = 0
        self.pending = 0
        self.flushed_at = time.monotonic()

    def add(
        self, keep: int, c: Claimed, ctx: HandlerContext, outcome: Outcome, finished_at: float | None = None
    ) -> None:
        """``finished_at``: on the clock of ``started_at`` (the store's); default now."""
        if finished_at is None:
            finished_at = time.time() + ctx.clock_offset
        self._put(c.worker, keep, outcome.kind != "ok", (c, ctx, outcome, finished_at, keep))

    def add_record(self, record: TraceRecord) -> None:
        self._put(record.worker, record.keep, record.outcome != "ok", record)

    def _put(self, worker: str, keep: int, failed: bool, item: Any) -> None:
        self._seq += 1
        entry = (self._seq, item)
        newest = self._newest.get(worker)
        if newest is None or newest.maxlen != keep:
            newest = self._newest[worker] = deque(newest or (), maxlen=keep)
        newest.append(entry)
        if failed:
            fails = self._failed.get(worker)
            if fails is None or fails.maxlen != keep:
                fails = self._failed[worker] = deque(fails or (), maxlen=keep)
            fails.append(entry)
        self.pending += 1

    def due(self, idle: bool) -> bool:
        return self.pending > 0 and (idle or time.monotonic() - self.flushed_at >= FLUSH_EVERY)

    def take(self) -> list[TraceRecord]:
        entries: dict[int, Any] = {}
        for group in (self._newest, self._failed):
            for d in group.values():
                entries.update(d)
        self._newest.clear()
        self._failed.clear()
        self.pending = 0
        self.flushed_at = time.monotonic()
        return [_build(entries[seq]) for seq in sorted(entries)]


def _build(item: Any) -> TraceRecord:
    if isinstance(item, TraceRecord):
        return item
    c, ctx, outcome, finished_at, keep = item
    return TraceRecord(
        message_id=c.id,
        worker=c.worker,
        outcome=outcome.kind,
        event=c.event,
        result=outcome.encoded,
        error=outcome.error,
        traceback=outcome.traceback,
        logs=ctx.logs,
        emitted=ctx.emitted,
        attempt=c.attempt,
        enqueued_at=c.enqueued_at,
        started_at=c.started_at,
        finished_at=finished_at,
        keep=keep,
    )


def finished_trace(c: Claimed, ctx: HandlerContext, outcome: Outcome) -> Trace:
    """The ``Trace`` of a run that just ended, for ``on_finish`` hooks (whether or not it is kept)."""
    return Trace(
        message_id=c.id,
        worker=c.worker,
        event=stored_json(c.event),
        outcome=outcome.kind,  # type: ignore[arg-type]
        result=outcome.result,
        error=outcome.error,
        traceback=outcome.traceback,
        logs=list(ctx.logs),
        emitted=list(ctx.emitted),
        attempt=c.attempt,
        enqueued_at=to_datetime(c.enqueued_at),
        started_at=to_datetime(c.started_at),
        finished_at=to_datetime(time.time() + ctx.clock_offset),
    )
