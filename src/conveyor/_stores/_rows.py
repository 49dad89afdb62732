"""Rows of the named read queries (the same columns in every dialect) as the records users see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from .._message import Message, Trace, UnknownWorker, to_datetime
from .._meta import decode_meta

__all__ = ["messages", "stored_json", "traces", "unknown"]


def messages(rows: Iterable[Sequence[Any]], now: float | None = None) -> list[Message]:
    """``messages.sql`` rows. With ``now``, a queued row due later is reported as scheduled (for a
    dialect whose query returns the stored state)."""
    return [
        Message(
            id=i,
            worker=w,
            event=stored_json(event),
            state="scheduled" if now is not None and state == "queued" and _later(run_at, now) else state,
            enqueued_at=to_datetime(enq),
            run_at=to_datetime(run_at),
            attempt=attempt,
            parent_id=parent,
            root_id=root,
            key=key,
            last_error=error,
            snoozes=snoozes,
            priority=priority,
            group=None if group is None else orjson.loads(group),
            meta=decode_meta(meta),
        )
        for (
            i,
            w,
            event,
            state,
            enq,
            run_at,
            attempt,
            parent,
            root,
            key,
            error,
            snoozes,
            priority,
            group,
            meta,
        ) in (rows)
    ]


def traces(rows: Iterable[Sequence[Any]]) -> list[Trace]:
    """``traces.sql`` rows."""
    return [
        Trace(
            message_id=row[0],
            worker=row[1],
            event=stored_json(row[2]),
            outcome=row[3],
            result=stored_json(row[4]),
            error=row[5],
            traceback=row[6],
            logs=_list(row[7]),
            emitted=_list(row[8]),
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
        UnknownWorker(w, n, to_datetime(first), to_datetime(last), stored_json(sample))
        for w, n, first, last, sample in rows
    ]


def _later(run_at: Any, now: float) -> bool:
    """Whether a stored ``run_at`` is after ``now``; one that is not a number (a hand edit) sorts after
    every number in SQLite, so it never comes due."""
    return run_at > now if isinstance(run_at, int | float) else True


def stored_json(stored: Any) -> Any:
    """A JSON column's value. What Conveyor never writes there (a hand edit, another program) still
    reads: text that is not JSON as that text, any other value (a number, NULL) as it is."""
    if isinstance(stored, str | bytes):
        try:
            return orjson.loads(stored)
        except orjson.JSONDecodeError:
            return stored if isinstance(stored, str) else stored.decode("utf-8", "replace")
    return stored


def _list(stored: Any) -> list[Any]:
    """A JSON array column (logs, emitted); anything else in it reads as a list of that one value."""
    value = stored_json(stored)
    return value if isinstance(value, list) else [value]
