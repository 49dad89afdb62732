"""OpenTelemetry (``conveyor.otel.instrument``) with the SDK: a span in this process emits; a ``conveyor run``
process, instrumented too, runs the messages and writes its finished spans to a file (JSON lines). One
trace across the processes: the request, its PRODUCER spans, the CONSUMER span of each attempt (a retried
message: two, the first an ERROR with its exception), the spans a handler opens and the messages it emits;
handler log records carry the message id and the trace id."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import conveyor
from conveyor.otel import instrument

APP = """
import json, logging, os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import conveyor
from conveyor.otel import instrument


class JsonLines(SpanExporter):
    def __init__(self, path):
        self.path = path

    def export(self, spans):
        with open(self.path, "a") as out:
            for s in spans:
                out.write(json.dumps({
                    "name": s.name,
                    "kind": s.kind.name,
                    "trace_id": format(s.context.trace_id, "032x"),
                    "span_id": format(s.context.span_id, "016x"),
                    "parent_id": None if s.parent is None else format(s.parent.span_id, "016x"),
                    "attributes": dict(s.attributes),
                    "status": s.status.status_code.name,
                    "events": [e.name for e in s.events],
                }) + "\\n")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(JsonLines(os.environ["SPANS_FILE"])))
tracer = provider.get_tracer("otel-app")
app = conveyor.App()
instrument(app, tracer_provider=provider)


@app.worker("hello")
def hello(event, msg):
    with tracer.start_as_current_span("inner"):
        logging.getLogger("otel-app").warning("inside hello")
        conveyor.emit({"from": msg.id}, "child")


@app.worker("child")
async def child(event):
    with tracer.start_as_current_span("inner-async"):
        pass


@app.worker("flaky", max_attempts=3, backoff=0)
def flaky(event, msg):
    if msg.attempt == 1:
        raise RuntimeError("the first attempt fails")
"""


def spans_by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        out.setdefault(s["name"], []).append(s)
    return out


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


@pytest.fixture
def tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def emitting_app(url: str, provider: TracerProvider) -> conveyor.App:
    app = conveyor.App(url)
    instrument(app, tracer_provider=provider)
    instrument(app, tracer_provider=provider)  # a second call changes nothing
    for name in ("hello", "child", "flaky"):
        app.worker(name)(lambda event: None)  # known here; run by the other process
    return app


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    url = f"sqlite:///{tmp_path / 'otel.db'}"
    script = tmp_path / "otel_app.py"
    script.write_text(APP)
    spans = tmp_path / "spans.jsonl"
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    run = subprocess.Popen(
        [exe, "run", str(script), "--store", url, "--no-web", "--processes", "1", "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, SPANS_FILE=str(spans)),
    )
    try:
        yield url, spans, run
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
            run.communicate(timeout=30)


def read_spans(path: Path, count: int, run: subprocess.Popen[bytes], timeout: float = 30.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [orjson.loads(line) for line in lines]
        if run.poll() is not None:
            raise AssertionError(f"the runner exited: {run.communicate()[1].decode()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(lines)} of {count} spans after {timeout} s: {lines}")
        time.sleep(0.05)


def test_one_trace_across_processes_and_retries(
    runner: tuple[str, Path, subprocess.Popen[bytes]], tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    url, path, run = runner
    provider, exporter = tracing
    app = emitting_app(url, provider)
    with provider.get_tracer("test").start_as_current_span("request") as request:
        hello_id = app.emit("hi", "hello")
        flaky_id = app.emit("x", "flaky")
    app.close()
    trace_id, request_id = hex_ids(request)  # type: ignore[arg-type]

    local = {s.name: s for s in exporter.get_finished_spans()}
    assert set(local) == {"request", "send hello", "send flaky"}
    for name, message_id in (("send hello", hello_id), ("send flaky", flaky_id)):
        span = local[name]
        assert span.kind is SpanKind.PRODUCER
        assert span.parent is not None and format(span.parent.span_id, "016x") == request_id
        assert hex_ids(span)[0] == trace_id
        assert dict(span.attributes or {}) == {
            "messaging.system": "conveyor",
            "messaging.destination.name": name.split()[1],
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.message.id": str(message_id),
        }

    remote = spans_by_name(read_spans(path, 7, run))
    assert all(s["trace_id"] == trace_id for group in remote.values() for s in group)
    (hello,) = remote["process hello"]
    assert hello["kind"] == "CONSUMER" and hello["parent_id"] == hex_ids(local["send hello"])[1]
    assert hello["attributes"] == {
        "messaging.system": "conveyor",
        "messaging.destination.name": "hello",
        "messaging.message.id": str(hello_id),
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "conveyor.attempt": 1,
    }
    (inner,) = remote["inner"]
    assert inner["parent_id"] == hello["span_id"]
    (send_child,) = remote["send child"]
    assert send_child["kind"] == "PRODUCER" and send_child["parent_id"] == inner["span_id"]
    (child,) = remote["process child"]
    assert child["kind"] == "CONSUMER" and child["parent_id"] == send_child["span_id"]
    assert child["attributes"]["messaging.message.id"] == send_child["attributes"]["messaging.message.id"]
    assert remote["inner-async"][0]["parent_id"] == child["span_id"]

    first, second = sorted(remote["process flaky"], key=lambda s: s["attributes"]["conveyor.attempt"])
    for attempt, span in enumerate((first, second), 1):
        assert span["kind"] == "CONSUMER" and span["parent_id"] == hex_ids(local["send flaky"])[1]
        assert span["attributes"]["conveyor.attempt"] == attempt
        assert span["attributes"]["messaging.message.id"] == str(flaky_id)
    assert first["status"] == "ERROR" and first["events"] == ["exception"]
    assert second["status"] == "UNSET" and second["events"] == []

    run.send_signal(signal.SIGTERM)
    _out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err.decode()
    logged = [orjson.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    (line,) = [entry for entry in logged if entry["message"] == "inside hello"]
    assert line["message_id"] == hello_id and line["worker"] == "hello"
    assert line["trace_id"] == trace_id and line["span_id"] == inner["span_id"]


def test_async_emits_and_a_drain_in_one_process(
    tmp_path: Path, tracing: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = tracing
    app = conveyor.App(f"sqlite:///{tmp_path / 'one.db'}")
    instrument(app, tracer_provider=provider)
    metas: list[dict[str, str]] = []

    @app.worker("w", max_attempts=1)
    def handle(event: object, msg: conveyor.Message) -> None:
        metas.append(msg.meta)
        if event == "boom":
            raise ValueError("boom")

    async def go() -> list[int]:
        with provider.get_tracer("test").start_as_current_span("request"):
            one = await app.aemit("one", "w")
            return [one, *await app.aemit_many([("two", "w"), ("boom", "w")])]

    ids = asyncio.run(go())
    assert app.drain() == 3
    app.close()
    spans = exporter.get_finished_spans()
    (request,) = [s for s in spans if s.name == "request"]
    sends = [s for s in spans if s.kind is SpanKind.PRODUCER]
    assert sorted(s.attributes["messaging.message.id"] for s in sends) == sorted(map(str, ids))  # type: ignore[index]
    assert all(s.parent is not None and s.parent.span_id == request.context.span_id for s in sends)
    consumers = {s.attributes["messaging.message.id"]: s for s in spans if s.kind is SpanKind.CONSUMER}  # type: ignore[index]
    assert set(consumers) == set(map(str, ids))
    for send in sends:
        consumer = consumers[send.attributes["messaging.message.id"]]  # type: ignore[index]
        assert consumer.parent is not None and consumer.parent.span_id == send.context.span_id
        assert consumer.context.trace_id == request.context.trace_id
    assert consumers[str(ids[2])].status.status_code is StatusCode.ERROR
    assert all(set(m) == {"traceparent"} for m in metas)
