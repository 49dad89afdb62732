"""The HTTP API against its own OpenAPI document, with schemathesis, on both stores.

Every operation gets generated valid and invalid requests (the coverage and fuzzing phases) and the
stateful phase follows the document's links (emit → message, workers → traces → replay, dead →
retry/discard, schedules → pause/resume) from a store seeded with messages of every kind. All of
schemathesis's checks run: any answer must be documented (status, content type, headers, schema),
valid input accepted, invalid input refused with a 4xx, and never a 500.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events
from schemathesis.openapi import from_asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.types import ASGIApp, Receive, Scope, Send

import conveyor
from conveyor._web import WebServer, create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

TOKEN = "schemathesis-test-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Conveyor-Request": "1"}
EXAMPLES = 40
"""Per operation and phase: enough to reach every constraint, bounded to keep the suite fast."""


def seeded_app(url: str) -> conveyor.App:
    """An app with ok, failing and unknown workers, traces, dead letters and a schedule in its store."""
    app = conveyor.App(url)

    @app.worker("work")
    def work(event: Any) -> Any:
        return event

    @app.worker("fail", max_attempts=1)
    def fail(event: Any) -> None:
        raise RuntimeError(f"refused {event!r}")

    app.schedule("tick", "work", {"tick": True}, every=3600)
    for n in range(3):
        app.emit({"n": n}, "work")
        app.emit({"n": n}, "fail")
    app.drain(timeout=30)
    app.emit("later", "work", delay=3600, key="later")
    with pytest.warns(conveyor.UnknownWorkerWarning):
        app.emit("held", "ghost")  # no app defines it: listed as unknown
    app.emit("queued", "work", priority=5)
    return app


def served(asgi: ASGIApp) -> ASGIApp:
    """``asgi`` as a server keeps it: started once for the whole run. (Schemathesis's ASGI client runs
    the lifespan around every request, and the app's shutdown ends its live streams for good.)"""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await asgi(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return app


@pytest.fixture(params=["sqlite", "postgres"])
def web_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenApiSchema]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/c.db"
    app = seeded_app(url)
    web = create_app(app, token=TOKEN, poll=0.05, max_wait=0.2)  # long polls answer within 5 s
    schema = from_asgi("/openapi.json", served(web), headers=HEADERS)
    schema.config.update(headers=HEADERS, request_timeout=5)
    schema.config.max_stream_events = 1  # the stream is endless: its first event is enough to check
    schema.config.generation.update(max_examples=EXAMPLES, database="none")
    try:
        yield schema
    finally:
        web.state.conveyor.close()
        app.close()


def run(schema: OpenApiSchema) -> tuple[list[str], list[str], set[str]]:
    """Every phase of schemathesis (examples, coverage, fuzzing, stateful) with every check: the
    failures, the errors (each one line) and the phases that ran."""
    failures: list[str] = []
    errors: list[str] = []
    phases: set[str] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failures.append(
                            f"{check.name}: {check.failure_info.failure.title}\n"
                            f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.PhaseFinished) and event.status != Status.SKIP:
            phases.add(event.phase.name.value)
    return sorted(set(failures)), errors, phases


def test_the_api_keeps_to_its_document(web_schema: OpenApiSchema) -> None:
    failures, errors, phases = run(web_schema)
    assert not failures, "\n\n".join(failures)
    assert not errors, "\n\n".join(errors)
    assert {"coverage", "fuzzing", "stateful"} <= phases, phases


def _read_until(response: http.client.HTTPResponse, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = response.read1(65_536)
        assert chunk, f"the stream ended before {marker!r}: {data[-200:]!r}"
        data += chunk
    return data


def test_clients_leaving_mid_event_leave_every_stream_whole(tmp_path: Path) -> None:
    """Clients that hang up in the middle of an event do not break other streams, and stopping the
    server ends each open stream with a complete chunked body (no IncompleteRead for the client)."""
    app = conveyor.App(f"sqlite:///{tmp_path}/c.db")

    @app.worker("w")
    def w(event: Any) -> None: ...

    server = WebServer(app, "127.0.0.1", 0, token="", poll=0.05)
    server.start()
    live = server.asgi.state.conveyor.live
    try:
        kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        kept.request("GET", "/api/stream")
        stream = kept.getresponse()
        assert stream.status == 200 and stream.getheader("transfer-encoding") == "chunked"
        _read_until(stream, b"event: section")
        for n in range(5):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as leaver:
                leaver.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                received = b""
                while b"event: section" not in received:
                    received += leaver.recv(4096)
                app.emit({"n": n}, "w")  # the sections change while the leaver is gone
        deadline = time.monotonic() + 10
        while live.streams > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.streams == 1
        app.emit("after", "w")
        _read_until(stream, b'"id":"workers"')  # the kept stream goes on with the change
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        rest = stream.read()  # http.client raises IncompleteRead on a broken chunked body
        stopping.join(15)
        assert not stopping.is_alive()
        assert rest.endswith(b"\n\n") or rest == b""
        kept.close()
    finally:
        server.stop()
        app.close()


# -- the cases schemathesis found, pinned ---------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = conveyor.App(f"sqlite:///{tmp_path}/c.db")

    @app.worker("w")
    def w(event: Any) -> None: ...

    with TestClient(create_app(app, token=TOKEN), base_url="http://testserver", headers=HEADERS) as c:
        yield c
    app.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/messages?worker=", None, 200),  # an empty filter: every worker (documented)
        ("GET", "/api/dead?worker=&state=", None, 200),
        ("GET", "/?state=scheduled", None, 200),
        ("POST", "/api/emit/w?key=", b"1", 400),  # a parameter given empty is refused
        ("POST", "/api/emit/w?delay=", b"1", 400),
        ("POST", "/api/emit/w?priority=", b"1", 400),
        ("GET", "/api/messages?limit=", None, 400),
        ("POST", "/api/emit/w?delay=1e3&priority=-0", b"1", 202),
        ("POST", "/api/emit/w", b'{"x": [1.5, -9223372036854775808, 18446744073709551615, 1e18]}', 202),
        ("POST", "/api/emit/w", b'{"x": -2.2162192131781536e+37}', 400),  # whole, as JSON Schema counts
        ("POST", "/api/emit/w", b"[1.0e20]", 400),
        ("POST", "/api/emit/w", b"18446744073709551616", 400),
        ("POST", "/api/emit/w?delay=-0.0", b"1", 202),
        ("POST", "/api/emit/w?delay=315576001", b"1", 400),  # past 10 years: refused, not stored
        ("POST", "/api/emit/w?delay=1_0", b"1", 400),
        ("POST", "/api/emit/w?priority=%2B5", b"1", 400),
        ("POST", "/api/emit/w?key=a%00b", b"1", 400),
        ("POST", "/api/dead/discard", b'{"id": -1175639725}', 400),
        ("POST", "/api/dead/discard", b'{"id": 0}', 400),
        ("POST", "/api/dead/discard", b'{"id": 7.0}', 200),
        ("DELETE", "/api/messages/0", None, 400),
        ("DELETE", "/api/messages/" + "9" * 29, None, 400),
        ("POST", "/api/workers/w/block", '{"reason": "\\u00a0"}', 400),
        ("POST", "/api/workers/w/block", '{"reason": "\\ufeff\\u001c"}', 400),
        ("POST", "/api/workers/w/block", '{"reason": "a\\u0000"}', 400),
        ("POST", "/api/workers/w/block", '{"reason": "\\u00a0why"}', 200),
    ],
)
def test_the_server_enforces_what_the_document_says(
    client: TestClient, method: str, path: str, body: bytes | str | None, status: int
) -> None:
    response = client.request(method, path, content=body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert isinstance(response.json()["error"], str)


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.request("PUT", "/api/messages/1")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "DELETE"}


def test_the_document_carries_the_server_rules(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    reason = doc["components"]["schemas"]["BlockReason"]["properties"]["reason"]
    visible = re.compile(next(p["pattern"] for p in reason["allOf"] if "\\x00" not in p["pattern"]))
    for code in range(0x3100):  # whitespace to Python or to ECMAScript is no reason
        assert (visible.search(chr(code)) is None) == (chr(code).isspace() or code == 0xFEFF), hex(code)
    emit = doc["paths"]["/api/emit/{worker}"]["post"]
    delay = next(p for p in emit["parameters"] if p["name"] == "delay")["schema"]
    assert delay["maximum"] == 315_576_000
    assert doc["paths"]["/api/messages/{id}"]["get"]["parameters"][0]["schema"]["minimum"] == 1
    links = {
        link["operationId"]
        for item in doc["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    }
    operations = {operation["operationId"] for item in doc["paths"].values() for operation in item.values()}
    assert links <= operations
    assert {"replayTrace", "retryDead", "discardDead", "getMessage", "pauseSchedule"} <= links


def _operation(doc: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    return next(
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if operation["operationId"] == operation_id
    )


def _resolve(expression: str, request_path: dict[str, str], body: Any) -> Any:
    if expression.startswith("$request.path."):
        return request_path[expression.removeprefix("$request.path.")]
    value = body
    for part in expression.removeprefix("$response.body#/").split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_the_links_walk_dead_letters_to_traces_to_a_replay(client: TestClient, tmp_path: Path) -> None:
    """dead letters → their worker's traces → replay, and replay → the new message, by the links."""
    doc = client.get("/openapi.json").json()
    app = seeded_app(f"sqlite:///{tmp_path}/seeded.db")
    with TestClient(create_app(app, token=TOKEN), base_url="http://testserver", headers=HEADERS) as c:
        path, method, body = "/api/dead", "get", c.get("/api/dead").json()
        params: dict[str, str] = {}
        walked = []
        for link_name in ("traces", "replay", "message"):
            answers = doc["paths"][path][method]["responses"]
            link = answers["202" if "202" in answers else "200"]["links"][link_name]
            path, method, _ = _operation(doc, link["operationId"])
            params = {k: str(_resolve(v, params, body)) for k, v in link["parameters"].items()}
            answer = c.request(method.upper(), path.format(**params))
            assert answer.status_code in (200, 202), (path, params, answer.text)
            body = answer.json()
            walked.append((link["operationId"], answer.status_code))
        assert walked == [("workerTraces", 200), ("replayTrace", 202), ("getMessage", 200)]
        assert body["worker"] == "fail" and body["state"] == "queued"
    app.close()
