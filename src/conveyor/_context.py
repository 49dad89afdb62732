"""The message being handled (a context variable) and ``conveyor.emit`` inside a handler."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._emitter import Emitter

__all__ = ["HandlerContext", "current", "emit"]


@dataclass(slots=True)
class HandlerContext:
    """What the runtime knows about the message whose handler is running in this context."""

    emitter: Emitter
    message_id: int
    worker: str
    root_id: int | None
    chain: str | None
    logs: list[str] = field(default_factory=list)
    emitted: list[int] = field(default_factory=list)
    clock_offset: float = 0.0
    """The store's clock minus this host's, as seen at the claim (PostgreSQL stamps ``started_at`` on
    the server): added to the finish time of the trace, so that its duration is this host's."""
    began: float = 0.0
    """This host's ``time.time()`` when the claim was answered: the handler starts then (a sync one
    once a thread takes it)."""
    meta: str | None = None
    """The message's meta as stored (JSON text): the messages its handler emits start with it."""


current: ContextVar[HandlerContext | None] = ContextVar("conveyor_current", default=None)


def emit(
    event: Any,
    worker: str,
    *,
    delay: float | None = None,
    at: datetime | None = None,
    key: str | None = None,
    priority: int = 0,
) -> int:
    """Emit ``event`` to ``worker`` from inside a handler, recording this message as its parent.

    Outside a handler there is no running app to emit through: use ``app.emit`` there.
    """
    ctx = current.get()
    if ctx is None:
        raise RuntimeError("conveyor.emit() works only inside a handler; elsewhere call app.emit()")
    return ctx.emitter.emit(event, worker, delay=delay, at=at, key=key, parent=ctx, priority=priority)
