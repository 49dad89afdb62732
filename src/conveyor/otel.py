"""OpenTelemetry tracing for an app: ``conveyor.otel.instrument(app)`` (extra ``conveyor[otel]``).

A PRODUCER span per emit (``send <worker>``), whose W3C ``traceparent`` an ``on_emit`` hook writes into
the message's ``meta``; a CONSUMER span per run (``process <worker>``), the child of that producer span,
current while the handler runs, so the spans the handler creates are its children and the messages it
emits carry the trace on. Every attempt (retries, snoozes) is its own consumer span in the same trace; a
failed one records the exception and an ERROR status. Attributes follow the OpenTelemetry messaging
conventions: ``messaging.system`` ("conveyor"), ``messaging.destination.name`` (the worker),
``messaging.message.id``, ``messaging.operation.type`` and ``messaging.operation.name``.

Log records created inside a handler carry ``message_id``, ``worker``, ``trace_id`` and ``span_id``
attributes (the ids in hex), so a log formatter (or ``conveyor run --log-format json``) can show them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from . import __version__
from ._context import current
from ._control import Incomplete
from ._hooks import Hooks, OutgoingMessage
from ._message import Message

__all__ = ["instrument"]

SYSTEM = "conveyor"
_PROPAGATOR = TraceContextTextMapPropagator()
_SPAN = "span"
_installed_log_factory = False


def instrument(app: Any, tracer_provider: TracerProvider | None = None) -> None:
    """Trace ``app``'s emits and runs with OpenTelemetry (``tracer_provider``: default the global one).

    Call it where the app is defined (the module ``conveyor run`` imports), before emitting or running,
    so that both the processes that emit and the runners trace. A second call for the same app does
    nothing."""
    hooks: Hooks = app.hooks
    if "otel" in hooks.installed:
        return
    tracer = trace.get_tracer("conveyor", __version__, tracer_provider=tracer_provider)
    hooks.add_emit(_Producer(tracer))
    hooks.add_after_emit(_sent)
    hooks.add_around(_Consumer(tracer))
    hooks.installed.add("otel")
    _install_log_factory()


class _Producer:
    """``on_emit``: open the PRODUCER span (a child of the current span) and carry it in ``meta``."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def __call__(self, out: OutgoingMessage) -> None:
        span = self.tracer.start_span(
            f"send {out.worker}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": SYSTEM,
                "messaging.destination.name": out.worker,
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
            },
        )
        out._scratch[_SPAN] = span
        meta: dict[str, str] = {}
        _PROPAGATOR.inject(meta, context=trace.set_span_in_context(span))
        out.meta.pop("tracestate", None)  # an inherited one belongs to the parent's trace position
        out.meta.update(meta)


def _sent(out: OutgoingMessage, message_id: int | None, error: BaseException | None) -> None:
    """After the write: the message id on the producer span, or the error that stopped the emit."""
    span = out._scratch.pop(_SPAN, None)
    if span is None:
        return
    if message_id is not None:
        span.set_attribute("messaging.message.id", str(message_id))
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.end()


class _Consumer:
    """Around each run: the CONSUMER span, a child of the producer span named in ``meta``."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    @contextmanager
    def __call__(self, msg: Message) -> Iterator[None]:
        parent = _PROPAGATOR.extract(msg.meta)
        span = self.tracer.start_span(
            f"process {msg.worker}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": SYSTEM,
                "messaging.destination.name": msg.worker,
                "messaging.message.id": str(msg.id),
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "conveyor.attempt": msg.attempt,
            },
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            yield
        except BaseException as error:
            if isinstance(error, Incomplete):
                span.set_attribute("conveyor.outcome", "incomplete")
            else:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise
        finally:
            context.detach(token)
            span.end()


def _install_log_factory() -> None:
    """Log records created in a handler get ``message_id``, ``worker``, ``trace_id`` and ``span_id``."""
    global _installed_log_factory
    if _installed_log_factory:
        return
    _installed_log_factory = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        ctx = current.get()
        if ctx is not None and not record.name.startswith("conveyor"):  # the runtime's own pass extra=
            record.message_id = ctx.message_id
            record.worker = ctx.worker
            span = trace.get_current_span().get_span_context()
            if span.is_valid:
                record.trace_id = format(span.trace_id, "032x")
                record.span_id = format(span.span_id, "016x")
        return record

    logging.setLogRecordFactory(factory)
