"""Hooks and tracing (docs/hooks.md): a tenant carried in ``meta``, run times from ``on_finish``, and
OpenTelemetry spans printed by the SDK's console exporter. Run: python examples/hooks_app.py"""

from __future__ import annotations

import contextvars
import sys
import tempfile
from collections import Counter
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import conveyor
import conveyor.otel

app = conveyor.App(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'hooks.db'}")

# -- tenancy: the tenant of the request that emitted travels with the message --------------------------
tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)


@app.on_emit
def carry_tenant(out: conveyor.OutgoingMessage) -> None:
    current = tenant.get()
    if current is not None:  # inside a handler, meta already holds the parent's tenant
        out.meta["tenant"] = current


@app.on_start
def enter_tenant(msg: conveyor.Message) -> None:
    tenant.set(msg.meta.get("tenant"))  # runs in the handler's own context: the handler sees it


# -- metrics: outcomes per worker ----------------------------------------------------------------------
outcomes: Counter[tuple[str, str]] = Counter()


@app.on_finish
def count(trace_: conveyor.Trace) -> None:
    outcomes[trace_.worker, trace_.outcome] += 1


# -- tracing -------------------------------------------------------------------------------------------
class Printer(SpanExporter):
    def export(self, spans):  # type: ignore[no-untyped-def]
        for s in spans:
            parent = "" if s.parent is None else f" (child of {s.parent.span_id:016x})"
            print(f"span {s.name} {s.kind.name} {s.context.span_id:016x}{parent}")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(Printer()))
conveyor.otel.instrument(app, tracer_provider=provider)


@app.worker("signup")
def signup(event: dict[str, str]) -> None:
    print(f"signup of {event['email']} for tenant {tenant.get()}")
    conveyor.emit({"to": event["email"]}, "send-email")  # inherits the tenant; a child span


@app.worker("send-email")
def send_email(event: dict[str, str], msg: conveyor.Message) -> None:
    print(f"welcome mail to {event['to']} for tenant {msg.meta['tenant']}")


if __name__ == "__main__":
    tracer = provider.get_tracer("example")
    with tracer.start_as_current_span("POST /signup"):
        tenant.set("acme")
        app.emit({"email": "ada@example.com"}, "signup")
    app.drain()
    print("outcomes:", dict(outcomes))
