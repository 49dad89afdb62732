"""What a claimed message becomes for its handler: the ``Message`` it may take, and how far the store's
clock is from this host's (trace times are the handler's own, whatever the store's clock says)."""

from __future__ import annotations

from typing import Any

import orjson

from .._message import Message, to_datetime
from .._meta import decode_meta
from .._stores import Claimed

__all__ = ["clock_skew", "handed_message"]


def handed_message(c: Claimed, event: Any) -> Message:
    return Message(
        id=c.id,
        worker=c.worker,
        event=event,
        state="running",
        enqueued_at=to_datetime(c.enqueued_at),
        run_at=to_datetime(c.run_at),
        attempt=c.attempt,
        parent_id=c.parent_id,
        root_id=c.root_id,
        key=c.key,
        last_error=c.last_error,
        snoozes=c.snoozes,
        priority=c.priority,
        group=None if c.group_ids is None else orjson.loads(c.group_ids),
        meta=decode_meta(c.meta),
    )


def clock_skew(stamped: float, issued: float, answered: float) -> float:
    """How far the store's clock is ahead of this host's (negative: behind), judged by one claim: its
    ``started_at`` was stamped by the store between the moment the claim was ``issued`` and the moment
    it was ``answered``; only what lies outside that window is a difference of clocks."""
    if stamped > answered:
        return stamped - answered
    if stamped < issued:
        return stamped - issued
    return 0.0
