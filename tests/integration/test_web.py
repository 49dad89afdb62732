"""The HTTP API and dashboard through Starlette's test client (same process, real store)."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import conveyor
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")  # starlette prefers httpx2; either works
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

BASE = "http://127.0.0.1"
LOCAL = ("127.0.0.1", 50000)  # the client's address: loopback (TestClient's default is "testclient")
WRITE = {"X-Conveyor-Request": "1"}  # what the dashboard sends with every write


@pytest.fixture
def web_app(app: conveyor.App) -> conveyor.App:
    @app.worker("greet")
    def greet(event: Any) -> Any:
        print("greeting", event)
        return {"hello": event}

    @app.worker("fail", max_attempts=1, backoff=0)
    def fail(event: Any) -> None:
        raise RuntimeError(f"failed on <b>{event}</b>")

    return app


@pytest.fixture
def client(web_app: conveyor.App) -> Iterator[TestClient]:
    with TestClient(create_app(web_app, token=""), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        yield c


def emit(client: TestClient, worker: str, body: bytes | str = b"{}", **params: str) -> int:
    response = client.post(f"/api/emit/{worker}", content=body, params=params)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def workers(client: TestClient) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in client.get("/api/workers").json()}


def test_emit_list_and_cancel(client: TestClient) -> None:
    first = emit(client, "greet", b'{"name": "ada"}')
    second = emit(client, "greet", b'"later"', delay="60")
    assert workers(client)["greet"] | {} == {
        "name": "greet",
        "queued": 1,
        "scheduled": 1,
        "running": 0,
        "dead": 0,
        "paused": False,
        "blocked": None,
        "unknown": False,
        "rate": None,
        "rate_limited": False,
    }
    listed = client.get("/api/messages", params={"worker": "greet"}).json()
    assert [m["id"] for m in listed] == [first, second]
    assert listed[0]["event"] == {"name": "ada"} and listed[1]["state"] == "scheduled"
    assert client.get("/api/messages", params={"state": "scheduled"}).json()[0]["id"] == second
    assert client.delete(f"/api/messages/{second}").json() == {"id": second, "cancelled": True}
    gone = client.delete(f"/api/messages/{second}")
    assert gone.status_code == 404 and "not queued" in gone.json()["error"]
    assert workers(client)["greet"]["scheduled"] == 0


def test_emit_with_key_is_deduplicated(client: TestClient) -> None:
    assert emit(client, "greet", b"1", key="k") == emit(client, "greet", b"2", key="k")


def test_pause_resume_block_unblock(client: TestClient, web_app: conveyor.App) -> None:
    assert client.post("/api/workers/greet/pause").json() == {"worker": "greet", "paused": True}
    assert web_app.status()["greet"].paused
    assert client.post("/api/workers/greet/resume").json()["paused"] is False
    assert not web_app.status()["greet"].paused
    response = client.post("/api/workers/greet/block", json={"reason": "too many <loops>"})
    assert response.status_code == 200
    assert web_app.status()["greet"].blocked == "too many <loops>"
    assert client.post("/api/workers/greet/block", json={}).status_code == 400
    client.post("/api/workers/greet/unblock")
    assert web_app.status()["greet"].blocked is None


def test_traces_and_replay(client: TestClient, web_app: conveyor.App) -> None:
    message_id = emit(client, "greet", b'{"n": 1}')
    assert web_app.drain(timeout=10) == 1
    traces = client.get("/api/workers/greet/traces").json()
    assert traces[0]["message_id"] == message_id
    assert traces[0]["outcome"] == "ok" and traces[0]["result"] == {"hello": {"n": 1}}
    replayed = client.post(f"/api/workers/greet/traces/{message_id}/replay")
    assert replayed.status_code == 202
    new = web_app.messages("greet")
    assert [m.id for m in new] == [replayed.json()["id"]] and new[0].event == {"n": 1}
    missing = client.post("/api/workers/greet/traces/999999/replay")
    assert missing.status_code == 404 and "error" in missing.json()


def test_dead_letters_retry_and_discard(client: TestClient, web_app: conveyor.App) -> None:
    message_id = emit(client, "fail", b'"x"')
    web_app.drain(timeout=10)
    dead = client.get("/api/dead", params={"worker": "fail"}).json()
    assert [m["id"] for m in dead] == [message_id] and "failed on <b>x</b>" in dead[0]["last_error"]
    assert client.post("/api/dead/retry", json={"id": message_id}).json() == {"retried": 1}
    assert workers(client)["fail"]["queued"] == 1
    web_app.drain(timeout=10)
    assert client.post("/api/dead/discard", json={"worker": "fail"}).json() == {"discarded": 1}
    assert client.get("/api/dead").json() == []


def test_unknown_workers_listed_and_discarded(client: TestClient) -> None:
    emit(client, "ghost", b'{"sample": true}')
    emit(client, "ghost", b"2")
    (ghost,) = client.get("/api/unknown").json()
    assert ghost["name"] == "ghost" and ghost["count"] == 2 and ghost["sample_event"] in ({"sample": True}, 2)
    assert workers(client)["ghost"]["unknown"] is True
    assert client.post("/api/workers/ghost/purge").json() == {"worker": "ghost", "purged": 2}
    assert client.get("/api/unknown").json() == []


BAD_REQUESTS = [
    ("POST", "/api/emit/greet", b"{not json"),
    ("POST", "/api/emit/greet", b""),
    ("POST", "/api/emit/bad%20name", b"{}"),
    ("POST", "/api/emit/-dash", b"{}"),
    ("POST", "/api/emit/greet?delay=-1", b"{}"),
    ("POST", "/api/emit/greet?delay=soon", b"{}"),
    ("POST", "/api/emit/greet?delay=nan", b"{}"),
    ("POST", "/api/emit/greet?delay=inf", b"{}"),
    ("POST", "/api/emit/greet", b'"' + b"x" * 1_100_000 + b'"'),
    ("POST", "/api/emit/greet", b"[" + b" " * 3_000_000 + b"]"),
    ("POST", "/api/workers/greet/block", b'{"reason": "' + b"r" * 70_000 + b'"}'),
    ("GET", "/api/messages?limit=0", None),
    ("GET", "/api/messages?limit=many", None),
    ("GET", "/api/messages?limit=99999999999999999999999", None),
    ("GET", "/api/messages?state=gone", None),
    ("GET", "/api/messages?worker=%00", None),
    ("DELETE", "/api/messages/abc", None),
    ("DELETE", "/api/messages/-1", None),
    ("POST", "/api/dead/retry", b"[]"),
    ("POST", "/api/dead/retry", b'{"id": "1"}'),
    ("POST", "/api/dead/retry", b'{"id": 1, "worker": "greet"}'),
    ("POST", "/api/dead/retry", b'{"worker": 5}'),
    ("POST", "/api/dead/discard", b'{"other": 1}'),
    ("POST", "/api/dead/retry", b'{"id": 18446744073709551615}'),
    ("POST", "/api/dead/retry", b'{"id": -1}'),
    ("POST", "/api/dead/retry", b'{"id": 123456789012345678901234567890}'),
    ("DELETE", "/api/messages/18446744073709551615", None),
    ("POST", "/api/dead/discard", b"{}"),
    ("POST", "/api/workers/greet/block", b'{"reason": 5}'),
    ("POST", "/api/workers/greet/block", b"nope"),
    ("POST", "/api/workers/greet/traces/x/replay", None),
    ("GET", "/?state=bogus", None),
    ("GET", "/api/stream?worker=%20", None),
    ("GET", "/nowhere", None),
    ("PUT", "/api/workers", None),
    ("GET", "/api/emit/greet", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_REQUESTS)
def test_malformed_input_is_a_4xx_json_error(
    client: TestClient, web_app: conveyor.App, method: str, path: str, body: bytes | None
) -> None:
    before = web_app.status()
    response = client.request(method, path, content=body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert web_app.status() == before  # nothing changed


def test_event_data_is_escaped_in_the_dashboard(client: TestClient, web_app: conveyor.App) -> None:
    payload = '{"html": "<script>alert(1)</script>", "img": "<img src=x onerror=alert(2)>"}'
    emit(client, "greet", payload)
    emit(client, "ghost", payload)
    emit(client, "fail", payload)
    queued = client.get("/", params={"worker": "greet"}).text
    web_app.drain(timeout=10)
    pages = [
        queued,
        client.get("/", params={"worker": "greet"}).text,
        client.get("/", params={"worker": "fail"}).text,
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "failed on &lt;b&gt;" in pages[2]  # error text too
    assert "<b>{" not in pages[2]


def test_dashboard_shows_every_section(client: TestClient, web_app: conveyor.App) -> None:
    emit(client, "greet", b'{"n": 1}')
    emit(client, "ghost", b"{}")
    page = client.get("/").text
    for path, sections in (
        ("/", ("totals", "charts", "workers")),
        ("/workers", ("workers",)),
        ("/workers/greet", ("rules", "charts", "messages", "traces", "dead")),
        ("/runners", ("runners",)),
        ("/schedules", ("schedules",)),
        ("/dead", ("dead",)),
        ("/unknown", ("unknown",)),
        ("/messages", ("messages",)),
    ):
        shown = client.get(path)
        assert shown.status_code == 200 and "could not be shown" not in shown.text, path
        for section in sections:
            assert f'id="{section}" data-live' in shown.text, (path, section)
    assert 'data-worker="greet"' in page and 'data-action="pause"' in page
    assert 'id="emit-form"' in page and "/static/dashboard.js" in page
    assert client.get("/static/dashboard.js").status_code == 200
    assert client.get("/static/dashboard.css").status_code == 200
    web_app.drain(timeout=10)
    traced = client.get("/", params={"worker": "greet"}).text
    assert 'data-action="replay"' in traced and "Traceback" not in traced


def test_token_is_required_when_set(web_app: conveyor.App) -> None:
    with TestClient(create_app(web_app, token="s3cret"), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
            response = c.get("/api/workers", headers=headers)
            assert response.status_code == 401 and "error" in response.json()
            assert response.headers["www-authenticate"] == "Bearer"
        assert c.post("/api/emit/greet", content=b"{}").status_code == 401
        assert web_app.status()["greet"].queued == 0
        assert c.get("/api/workers", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/metrics").status_code == 401
        page = c.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 401 and 'name="token"' in page.text
        api = c.get("/api/workers", headers={"Accept": "text/html"})
        assert api.status_code == 401 and api.headers["content-type"] == "application/json"
        # A browser signs in once with ?token=; the token then lives in an HttpOnly cookie.
        signed = c.get("/?token=s3cret&worker=greet", follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/?worker=greet"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert c.get("/api/workers").status_code == 200  # the client kept the cookie
        assert c.get("/?token=wrong", follow_redirects=False).status_code == 200  # cookie, not the bad token


def test_env_token_is_the_default(web_app: conveyor.App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_TOKEN", "from-env")
    with TestClient(create_app(web_app), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        assert c.get("/api/workers").status_code == 401
        assert c.get("/api/workers", headers={"Authorization": "Bearer from-env"}).status_code == 200


def test_non_loopback_host_names_are_refused_without_token(client: TestClient, web_app: conveyor.App) -> None:
    assert client.get("/api/workers", headers={"Host": "evil.example:8765"}).status_code == 403
    assert client.get("/api/workers", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/api/workers", headers={"Host": "[::1]:8765"}).status_code == 200
    with TestClient(
        create_app(web_app, token="", allowed_hosts=["queue.internal"]),
        base_url=BASE,
        client=LOCAL,
        headers=WRITE,
    ) as c:
        assert c.get("/api/workers", headers={"Host": "queue.internal"}).status_code == 200


def test_cross_site_writes_are_refused(client: TestClient, web_app: conveyor.App) -> None:
    refused = [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ]
    for headers in refused:
        response = client.post("/api/workers/greet/pause", headers=headers)
        assert response.status_code == 403 and "refused" in response.json()["error"]
        response = client.post("/api/emit/greet", content=b"{}", headers=headers)
        assert response.status_code == 403
    assert not web_app.status()["greet"].paused and web_app.status()["greet"].queued == 0
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/workers/greet/pause", headers=same).status_code == 200
    # A same-origin form under Referrer-Policy: no-referrer (the sign-in form in Chrome) says Origin: null.
    form = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/workers/greet/resume", headers=form).status_code == 200
    assert client.get("/api/workers", headers={"Origin": "http://evil.example"}).status_code == 200


def test_openapi_document_matches_the_routes(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routed = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        methods = getattr(route, "methods", None)
        if methods is None:
            continue  # /static
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        routed |= {(path, m) for m in methods if m != "HEAD"}
    assert documented == routed - {("/openapi.json", "GET")}
    # Every documented operation answers (no 404/405) with a documented status for a simple request.
    for path, method in sorted(documented):
        if path == "/api/stream":
            continue  # endless; covered by test_web_server
        concrete = path.replace("{worker}", "greet").replace("{name}", "greet").replace("{id}", "1")
        body = {
            "/api/dead/retry": b'{"id": 1}',
            "/api/dead/discard": b'{"id": 1}',
            "/api/workers/{name}/block": b'{"reason": "r"}',
        }.get(path, b"{}" if method == "POST" else None)
        response = client.request(method, concrete, content=body)
        codes = doc["paths"][path][method.lower()]["responses"]
        assert str(response.status_code) in codes, (method, path, response.status_code, response.text[:200])


def test_metrics(client: TestClient, web_app: conveyor.App) -> None:
    client.get("/metrics")  # the baseline: counters start when the web process starts
    for n in range(3):
        emit(client, "greet", str(n))
    emit(client, "fail", b"0")
    emit(client, "ghost", b"0")
    web_app.drain(timeout=10)
    text = client.get("/metrics").text
    assert 'conveyor_queue_depth{state="queued",worker="ghost"} 1.0' in text
    assert 'conveyor_queue_depth{state="dead",worker="fail"} 1.0' in text
    assert 'conveyor_messages_completed_total{worker="greet"} 3.0' in text
    assert 'conveyor_messages_failed_total{worker="fail"} 1.0' in text
    assert 'conveyor_messages_dead_total{worker="fail"} 1.0' in text
    assert 'conveyor_messages_emitted_total{worker="greet"} 3.0' in text
    assert 'conveyor_messages_emitted_total{worker="ghost"} 1.0' in text
    assert 'conveyor_run_seconds_count{worker="greet"} 3.0' in text
    assert 'conveyor_wait_seconds_count{worker="greet"} 3.0' in text
    assert 'conveyor_worker_unknown{worker="ghost"} 1.0' in text
    # A later scrape does not count the same traces twice.
    assert 'conveyor_messages_completed_total{worker="greet"} 3.0' in client.get("/metrics").text


def test_mounted_in_another_app(web_app: conveyor.App) -> None:
    outer = Starlette(routes=[Mount("/ops/conveyor", app=conveyor.web(web_app, token=""))])
    with TestClient(outer, base_url=BASE, client=LOCAL, headers=WRITE) as c:
        page = c.get("/ops/conveyor/")
        assert page.status_code == 200
        assert 'href="/ops/conveyor/static/dashboard.css"' in page.text
        assert 'data-base="/ops/conveyor"' in page.text
        assert c.get("/ops/conveyor/static/dashboard.js").status_code == 200
        assert c.post("/ops/conveyor/api/emit/greet", content=b"1").status_code == 202
        assert {w["name"] for w in c.get("/ops/conveyor/api/workers").json()} >= {"greet"}


def test_a_lost_attempt_is_shown_and_counted_as_a_failure(make_app: Any) -> None:
    app = make_app(lease=0.05)
    app.worker("w")(lambda event: event)
    with TestClient(create_app(app, token=""), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        c.get("/metrics")  # the baseline
        mid = emit(c, "w", b'"x"')
        app.store.claim("gone", {"w": None}, 10, 0.05)  # a runner that claims and dies
        time.sleep(0.2)
        assert app.drain() == 1  # rescues (a "lost" trace), then runs it again
        traces = c.get("/api/workers/w/traces").json()
        assert [(t["message_id"], t["outcome"]) for t in traces] == [(mid, "ok"), (mid, "lost")]
        lost = next(t for t in traces if t["outcome"] == "lost")
        doc = c.get("/openapi.json").json()
        outcomes = doc["components"]["schemas"]["Trace"]["properties"]["outcome"]["enum"]
        assert lost["outcome"] in outcomes
        assert 'conveyor_messages_failed_total{worker="w"} 1.0' in c.get("/metrics").text
        assert '<span class="badge lost">lost</span>' in c.get("/", params={"worker": "w"}).text
