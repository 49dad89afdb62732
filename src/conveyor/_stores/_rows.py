"""Rows of the named read queries (the same columns in every dialect) as the records users see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from .._message import Message, Trace, UnknownWorker, to_datetime

__all__ = ["messages", "traces", "unknown"]


def messages(rows: Iterable[Sequence[Any]], now: float | None = None) -> list[Message]:
    """``messages.sql`` rows. With ``now``, a queued row due later is reported as scheduled (for a
    dialect whose query returns the stored state)."""
    return [
        Message(
            id=i,
            worker=w,
            event=orjson.loads(event),
            state="scheduled" if now is not None and state == "queued" and run_at > now else state,
            enqueued_at=to_datetime(enq),
            run_at=to_datetime(run_at),
            attempt=attempt,
            parent_id=parent,
            root_id=root,
            key=key,
            last_error=error,
        )
        for i, w, event, state, enq, run_at, attempt, parent, root, key, error in rows
    ]


def traces(rows: Iterable[Sequence[Any]]) -> list[Trace]:
    """``traces.sql`` rows."""
    return [
        Trace(
            message_id=row[0],
            worker=row[1],
            event=orjson.loads(row[2]),
            outcome=row[3],
            result=None if row[4] is None else orjson.loads(row[4]),
            error=row[5],
            traceback=row[6],
            logs=orjson.loads(row[7]),
            emitted=orjson.loads(row[8]),
            attempt=row[9],
            enqueued_at=to_datetime(row[10]),
            started_at=to_datetime(row[11]),
            finished_at=to_datetime(row[12]),
        )
        for row in rows
    ]


def unknown(rows: Iterable[Sequence[Any]]) -> list[UnknownWorker]:
    """``unknown.sql`` rows."""
    return [
        UnknownWorker(w, n, to_datetime(first), to_datetime(last), orjson.loads(sample))
        for w, n, first, last, sample in rows
    ]
