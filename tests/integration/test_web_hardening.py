"""The web face tried as an attacker and a careless user would (issue 11): paths, ids, clients,
headers, sign-in, live streams, error shapes and the OpenAPI document under a mount."""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Iterator
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import conveyor
from conveyor._stores import NewMessage, Settlement, Store, TraceRecord
from conveyor._stores._postgres import PostgresStore
from conveyor._stores._sqlite import SQLiteStore
from conveyor._web import WebServer, check_bind, create_app

warnings.filterwarnings("ignore", message="Using `httpx`")  # starlette prefers httpx2; either works
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

BASE = "http://127.0.0.1"
LOCAL = ("127.0.0.1", 50000)
WRITE = {"X-Conveyor-Request": "1"}
TOKEN = "a-long-enough-token-1234"


@pytest.fixture
def web_app(app: conveyor.App) -> conveyor.App:
    @app.worker("w")
    def handle(event: Any) -> Any:
        return event

    return app


def local(web: Any, **kwargs: Any) -> TestClient:
    return TestClient(web, base_url=BASE, client=LOCAL, headers=WRITE, **kwargs)


@pytest.fixture
def client(web_app: conveyor.App) -> Iterator[TestClient]:
    with local(create_app(web_app, token="")) as c:
        yield c


def assert_json_error(response: httpx.Response, status: int | None = None) -> str:
    if status is None:
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    else:
        assert response.status_code == status, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    error = response.json()["error"]
    assert isinstance(error, str) and error
    return error


# -- 12: names and ids in paths ------------------------------------------------------------------
def test_a_worker_name_with_a_trailing_newline_is_refused(client: TestClient, web_app: conveyor.App) -> None:
    for path in ("/api/emit/a%0A", "/api/emit/w%0A", "/api/emit/w%0D%0A"):
        error = assert_json_error(client.post(path, content=b"{}"), 400)
        assert "invalid worker name" in error
    assert_json_error(client.post("/api/workers/w%0A/pause"), 400)
    assert_json_error(client.post("/api/workers/w/pause%0A"))
    assert_json_error(client.get("/api/workers/w/traces%0A"))
    assert web_app.messages() == [] and not web_app.status()["w"].paused


@pytest.mark.parametrize("text", ["+25", " 25", "25 ", "2_5", "\u0662\u0665", "25%0A", "0x19", "25.0"])
def test_ids_are_plain_ascii_digits(client: TestClient, web_app: conveyor.App, text: str) -> None:
    for _ in range(25):
        web_app.emit({}, "w")
    path_text = text.replace(" ", "%20")
    error = assert_json_error(client.delete(f"/api/messages/{path_text}"), 400)
    assert "digits" in error
    assert_json_error(client.post(f"/api/workers/w/traces/{path_text}/replay"), 400)
    assert_json_error(client.get("/api/messages", params={"limit": text}), 400)
    assert len(web_app.messages()) == 25


# -- 6, 7, 8, 9: the HTTP face of bad input --------------------------------------------------------
@pytest.mark.parametrize("delay", ["inf", "-inf", "1e300", "1e12", "nan"])
def test_far_future_delays_are_refused(client: TestClient, web_app: conveyor.App, delay: str) -> None:
    assert_json_error(client.post("/api/emit/w", params={"delay": delay}, content=b"{}"), 400)
    assert web_app.messages() == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b"123456789012345678901234567890",
        b'{"n": 18446744073709551616}',
        b'{"n": -9223372036854775809}',
    ],
)
def test_deep_or_huge_number_bodies_are_refused(
    client: TestClient, web_app: conveyor.App, body: bytes
) -> None:
    assert_json_error(client.post("/api/emit/w", content=body), 400)
    assert web_app.messages() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/api/messages/" + "9" * 29, None),
        ("DELETE", "/api/messages/9223372036854775808", None),
        ("POST", "/api/dead/retry", b'{"id": 9223372036854775808}'),
        ("POST", "/api/dead/discard", b'{"id": 9223372036854775808}'),
        ("POST", "/api/dead/retry", b'{"id": 100000000000000000000000000000}'),
        ("GET", "/api/messages/" + "9" * 29, None),
        ("GET", "/api/messages?limit=" + "9" * 29, None),
    ],
)
def test_out_of_range_ids_are_a_clear_4xx(
    client: TestClient, web_app: conveyor.App, method: str, path: str, body: bytes | None
) -> None:
    before = web_app.status()
    assert_json_error(client.request(method, path, content=body))
    assert web_app.status() == before


def _write_columns(store: Store, message_id: int, **columns: object) -> None:
    """Set a message's columns as a hand edit or an older version might have left them."""
    if isinstance(store, PostgresStore):
        sets = ", ".join(f"{name} = %s" for name in columns)
        with store._conn() as conn:
            conn.execute(
                f"UPDATE {store.schema}.messages SET {sets} WHERE id = %s", [*columns.values(), message_id]
            )
    else:
        assert isinstance(store, SQLiteStore)
        sets = ", ".join(f"{name} = ?" for name in columns)
        with store._lock:
            store._db.execute(f"UPDATE messages SET {sets} WHERE id = ?", [*columns.values(), message_id])


def test_the_api_dashboard_and_stream_survive_any_row(
    client: TestClient, web_app: conveyor.App, store: Store
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        far = web_app.emit("far", "w", delay=60)
        bad = web_app.emit("bad", "w", delay=60)
        held = web_app.emit("held", "nobody")
    _write_columns(store, far, run_at=1e300, enqueued_at=math.inf)
    _write_columns(store, bad, event="{not json")
    _write_columns(store, held, event="[" * 2000, run_at=-1e300)
    (mid,) = store.enqueue([NewMessage("w", b"1")])
    (claimed,) = store.claim("r", {"w": None}, 10, 30.0)
    odd = TraceRecord(
        message_id=mid,
        worker="w",
        outcome="ok",
        event="{cut off",
        result="[" * 5000,
        error=None,
        traceback=None,
        logs=[],
        emitted=[],
        attempt=1,
        enqueued_at=math.inf,
        started_at=claimed.started_at,
        finished_at=1e300,
        keep=10,
    )
    store.settle("r", Settlement(complete=[mid], traces=[odd]))
    listed = client.get("/api/messages")
    assert listed.status_code == 200 and {m["id"] for m in listed.json()} == {far, bad, held}
    for message_id in (far, bad, held):
        assert client.get(f"/api/messages/{message_id}").status_code == 200
        assert client.get(f"/messages/{message_id}").status_code == 200
    assert client.get("/api/workers/w/traces").status_code == 200
    assert client.get("/api/unknown").status_code == 200 and client.get("/metrics").status_code == 200
    for params in ({}, {"worker": "w"}, {"worker": "nobody"}):
        page = client.get("/", params=params)
        assert page.status_code == 200 and "could not be shown" not in page.text, params
    from conveyor._web._pages import View
    from conveyor._web._views import PAGES

    views = [View(page=page) for page in PAGES if page != "worker"] + [View("w", page="worker")]
    live = client.app.state.conveyor.pages.render(views)  # type: ignore[attr-defined]
    assert not any("could not be shown" in html for sections in live.values() for html in sections.values())
    assert "{not json" in live[View(page="messages")]["messages"]


# -- 14: one message -------------------------------------------------------------------------------
def test_one_message_by_id_and_its_page(client: TestClient, web_app: conveyor.App) -> None:
    first = web_app.emit({"n": "<b>1</b>"}, "w")
    got = client.get(f"/api/messages/{first}")
    assert got.status_code == 200 and got.json()["id"] == first and got.json()["event"] == {"n": "<b>1</b>"}
    assert got.json()["state"] == "queued" and got.headers["cache-control"] == "no-store"
    error = assert_json_error(client.get("/api/messages/999999"), 404)
    assert "999999" in error
    listing = client.get("/messages").text
    assert f'href="/messages/{first}"' in listing
    page = client.get(f"/messages/{first}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;1&lt;/b&gt;" in page.text and "<b>1</b>" not in page.text
    web_app.drain(timeout=10)
    done = client.get(f"/messages/{first}")  # done: no longer stored, but its trace is kept
    assert done.status_code == 404 and "<html" in done.text.lower()
    traced = client.get("/", params={"worker": "w"}).text
    assert f'href="/messages/{first}?worker=w"' in traced
    kept = client.get(f"/messages/{first}", params={"worker": "w"})  # the trace link: its kept traces
    assert kept.status_code == 200 and "not stored" in kept.text and 'class="badge ok"' in kept.text
    assert "/api/messages/{id}" in client.get("/openapi.json").json()["paths"]
    assert "get" in client.get("/openapi.json").json()["paths"]["/api/messages/{id}"]


# -- 17: loopback clients only without a token ----------------------------------------------------
def test_remote_clients_are_refused_without_a_token(web_app: conveyor.App) -> None:
    remote = ("203.0.113.7", 40000)
    with TestClient(create_app(web_app, token=""), base_url=BASE, client=remote) as c:
        for host in ("localhost", "127.0.0.1:8765"):
            error = assert_json_error(c.get("/api/workers", headers={"Host": host}), 403)
            assert "203.0.113.7" in error and "token" in error.lower()
    outer = Starlette(routes=[Mount("/ops", app=conveyor.web(web_app, token=""))])
    with TestClient(outer, base_url="http://localhost", client=remote) as c:
        assert_json_error(c.get("/ops/api/workers"), 403)
        assert c.get("/ops/").status_code == 403
    for address in ("::1", "::ffff:127.0.0.1", "127.0.0.2"):
        with TestClient(outer, base_url="http://localhost", client=(address, 1)) as c:
            assert c.get("/ops/api/workers").status_code == 200, address
    with TestClient(outer, base_url="http://localhost", client=("::ffff:203.0.113.7", 1)) as c:
        assert_json_error(c.get("/ops/api/workers"), 403)
    with TestClient(create_app(web_app, token=TOKEN), base_url="http://queue.example", client=remote) as c:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert c.get("/api/workers", headers=bearer).status_code == 200


# -- 18: headers and the custom request header on writes ------------------------------------------
def test_security_headers_on_every_answer(client: TestClient) -> None:
    for path in ("/", "/api/workers", "/openapi.json", "/metrics", "/static/dashboard.js", "/nowhere"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    for path in ("/api/workers", "/api/messages", "/openapi.json", "/nowhere"):
        assert client.get(path).headers["cache-control"] == "no-store"
    page = client.get("/").text
    assert "<script>" not in page and " style=" not in page and " onclick=" not in page


def test_writes_need_the_custom_request_header(web_app: conveyor.App) -> None:
    with TestClient(create_app(web_app, token=""), base_url=BASE, client=LOCAL) as c:
        for method, path in (
            ("POST", "/api/emit/w"),
            ("POST", "/api/workers/w/pause"),
            ("DELETE", "/api/messages/1"),
        ):
            error = assert_json_error(c.request(method, path, content=b"{}"), 403)
            assert "X-Conveyor-Request" in error
        assert web_app.messages() == [] and not web_app.status()["w"].paused
        assert c.post("/api/workers/w/pause", headers=WRITE).status_code == 200
        assert c.get("/api/workers").status_code == 200  # reads need nothing


# -- 19: sign-in ---------------------------------------------------------------------------------
def test_sign_in_posts_the_form_and_redirects_only_here(web_app: conveyor.App) -> None:
    with local(create_app(web_app, token=TOKEN)) as c:
        form = c.get("/", headers={"Accept": "text/html"})
        assert (
            form.status_code == 401 and 'method="post"' in form.text.lower() and 'name="token"' in form.text
        )
        assert 'method="get"' not in form.text.lower()
        wrong = c.post("/sign-in", data={"token": "nope", "next": "/"}, follow_redirects=False)
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        for evil in (
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "http:evil",
            "",
            "/\r\nX-Evil: 1",
            "/dashboard?\u00e9",
        ):
            signed = c.post("/sign-in", data={"token": TOKEN, "next": evil}, follow_redirects=False)
            assert signed.status_code == 303 and signed.headers["location"] == "/", evil
            c.cookies.clear()
        good = c.post("/sign-in", data={"token": TOKEN, "next": "/?worker=w"}, follow_redirects=False)
        assert good.status_code == 303 and good.headers["location"] == "/?worker=w"
        assert "HttpOnly" in good.headers["set-cookie"]
        assert c.get("/api/workers").status_code == 200  # the cookie works
        c.cookies.clear()
        # ?token= works on the dashboard page only, and never redirects off-site.
        off = c.get(f"{BASE}//evil.example/?token={TOKEN}", follow_redirects=False)
        assert off.status_code in (401, 404) and "evil.example" not in off.headers.get("location", "")
        assert_json_error(c.get(f"/api/workers?token={TOKEN}"), 401)
        assert_json_error(c.get(f"/metrics?token={TOKEN}"), 401)
        page = c.get(f"/?token={TOKEN}&worker=w", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/?worker=w"


def test_sign_in_under_a_mount_redirects_inside_the_mount(web_app: conveyor.App) -> None:
    outer = Starlette(routes=[Mount("/ops", app=conveyor.web(web_app, token=TOKEN))])
    with local(outer) as c:
        form = c.get("/ops/", headers={"Accept": "text/html"})
        assert 'action="/ops/sign-in"' in form.text
        signed = c.post("/ops/sign-in", data={"token": TOKEN, "next": "/elsewhere"}, follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/ops/"
        signed = c.post(
            "/ops/sign-in", data={"token": TOKEN, "next": "/ops/?worker=w"}, follow_redirects=False
        )
        assert signed.headers["location"] == "/ops/?worker=w"


PAGES = (
    "/workers",
    "/workers/w",
    "/workers/w?state=dead&q=x",
    "/runners",
    "/schedules",
    "/dead",
    "/unknown",
    "/messages?worker=w",
    "/messages/7?worker=w",
)


@pytest.mark.parametrize("mount", ["", "/ops"])
def test_every_page_sends_a_browser_to_sign_in_and_back(web_app: conveyor.App, mount: str) -> None:
    web = conveyor.web(web_app, token=TOKEN)
    with local(Starlette(routes=[Mount(mount, app=web)]) if mount else web) as c:
        html = {"Accept": "text/html,application/xhtml+xml"}
        for path in PAGES:
            sent = c.get(f"{mount}{path}", headers=html, follow_redirects=False)
            assert sent.status_code == 303, (path, sent.status_code, sent.text[:200])
            location = sent.headers["location"]
            assert location == f"{mount}/?{urlencode({'next': mount + path})}", location
            form = c.get(location, headers=html)
            assert form.status_code == 401 and f'action="{mount}/sign-in"' in form.text
            assert f'name="next" value="{escape(mount + path)}"' in form.text, path
            signed = c.post(
                f"{mount}/sign-in", data={"token": TOKEN, "next": mount + path}, follow_redirects=False
            )
            assert signed.status_code == 303 and signed.headers["location"] == mount + path
            c.cookies.clear()
        # ?token= in a page's query is dropped on the way to the form, never echoed.
        sent = c.get(f"{mount}/workers/w?token=guess&state=dead", headers=html, follow_redirects=False)
        assert "guess" not in sent.headers["location"]
        # The API, the metrics and unknown paths keep their JSON 401, browser or not.
        for path in ("/api/workers", "/api/messages/7", "/metrics", "/openapi.json", "/nope", "/workers/w/x"):
            assert_json_error(c.get(f"{mount}{path}", headers=html, follow_redirects=False), 401)
        assert_json_error(c.get(f"{mount}/workers"), 401)  # not a browser: JSON too
        # next= on the sign-in page is followed only inside the mount.
        outside = ("/elsewhere",) if mount else ()  # a path of the outer app
        for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", *outside):
            form = c.get(f"{mount}/?{urlencode({'next': evil})}", headers=html)
            assert form.status_code == 401 and f'name="next" value="{mount}/"' in form.text, evil
            off = c.get(f"{mount}/?{urlencode({'next': evil, 'token': TOKEN})}", follow_redirects=False)
            assert off.status_code == 303 and off.headers["location"] == f"{mount}/", evil
            c.cookies.clear()
        back = c.get(
            f"{mount}/?{urlencode({'next': mount + '/dead', 'token': TOKEN})}", follow_redirects=False
        )
        assert back.status_code == 303 and back.headers["location"] == f"{mount}/dead"
        assert c.get(f"{mount}/dead", headers=html).status_code == 200  # signed in: the page itself


@pytest.mark.parametrize(
    "token", ["tökén-0123456789abcdef", "with space 0123456789", "tab\t0123456789abcdef"]
)
def test_a_token_that_cannot_travel_in_a_header_is_refused_at_start(
    web_app: conveyor.App, token: str
) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        conveyor.web(web_app, token=token)
    with pytest.raises(ValueError, match="printable ASCII"):
        WebServer(web_app, "127.0.0.1", 0, token=token)


def test_short_tokens_are_refused_beyond_loopback(web_app: conveyor.App) -> None:
    with pytest.raises(ValueError, match="16 characters"):
        check_bind("0.0.0.0", "short")
    with pytest.raises(ValueError, match="16 characters"):
        WebServer(web_app, "0.0.0.0", 0, token="fifteen-chars-x")
    check_bind("0.0.0.0", "sixteen-chars-xy")
    check_bind("127.0.0.1", "short")  # loopback: any token


# -- 20: one poller for every live stream ----------------------------------------------------------
class Served:
    def __init__(self, app: conveyor.App, **options: Any) -> None:
        self.server = WebServer(app, "127.0.0.1", 0, token="", **options)
        self.url = self.server.start()

    def stop(self) -> None:
        self.server.stop()


def _open_stream(url: str, opened: list[httpx.Response], done: threading.Event, errors: list[str]) -> None:
    try:
        with httpx.Client(base_url=url, timeout=20) as http, http.stream("GET", "api/stream") as response:
            opened.append(response)
            if response.status_code != 200:
                response.read()
                return
            for _ in response.iter_bytes():
                if done.is_set():
                    return
    except Exception as error:  # reported to the test through errors
        errors.append(repr(error))


def test_many_streams_cost_one_poll_per_tick(web_app: conveyor.App, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = web_app.unknown

    def counted() -> Any:
        nonlocal calls
        calls += 1
        return original()

    monkeypatch.setattr(web_app, "unknown", counted)
    served = Served(web_app, poll=0.1, max_streams=50)
    done = threading.Event()
    opened: list[httpx.Response] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_open_stream, args=(served.url, opened, done, errors), daemon=True)
        for _ in range(8)
    ]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(opened) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == 8 and all(r.status_code == 200 for r in opened), errors
        live = served.server.asgi.state.conveyor.live
        ticks_before, calls_before = live.ticks, calls
        time.sleep(1.5)
        ticks, polled = live.ticks - ticks_before, calls - calls_before
        assert ticks >= 3
        assert polled <= ticks + 1, (polled, ticks)  # one poll per tick, not one per stream
        assert live.streams == 8
    finally:
        done.set()
        served.stop()
        for thread in threads:
            thread.join(10)


def test_streams_past_the_cap_get_a_clear_503(web_app: conveyor.App) -> None:
    served = Served(web_app, poll=0.1, max_streams=2)
    done = threading.Event()
    opened: list[httpx.Response] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_open_stream, args=(served.url, opened, done, errors), daemon=True)
        for _ in range(2)
    ]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(opened) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with httpx.Client(base_url=served.url, timeout=10) as http:
            refused = http.get("api/stream")
            error = assert_json_error(refused, 503)
            assert "2" in error and "max_streams" in error and refused.headers["retry-after"]
            assert http.get("api/workers").status_code == 200
            done.set()  # the two streams end at their next section (this emit changes one)
            web_app.emit({}, "w")
            live = served.server.asgi.state.conveyor.live
            deadline = time.monotonic() + 10
            while live.streams and time.monotonic() < deadline:
                time.sleep(0.05)
            assert live.streams == 0
            with http.stream("GET", "api/stream") as again:
                assert again.status_code == 200
    finally:
        done.set()
        for thread in threads:
            thread.join(10)
        served.stop()


def test_a_section_that_fails_does_not_kill_the_stream(
    client: TestClient, web_app: conveyor.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(web_app, "runners", broken)
    page = client.get("/")
    assert page.status_code == 200 and 'id="workers"' in page.text and 'data-worker="w"' in page.text
    assert "could not be shown" in page.text and "OverflowError" in page.text
    sections = client.app.state.conveyor.pages.sections  # type: ignore[attr-defined]
    from conveyor._web._pages import View

    rendered = sections(View())
    assert "could not be shown" in rendered["totals"] and 'data-worker="w"' in rendered["workers"]
    # Over a real stream: the failing section says so, and the stream goes on with the others.
    served = Served(web_app, poll=0.1)
    try:
        with (
            httpx.Client(base_url=served.url, timeout=10) as http,
            http.stream("GET", "api/stream") as response,
        ):
            seen: dict[str, list[str]] = {}
            emitted = False
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                section = orjson.loads(line[len("data: ") :])
                seen.setdefault(section["id"], []).append(section["html"])
                if not emitted and "totals" in seen and "workers" in seen:
                    web_app.emit({}, "w")  # the next tick changes the workers section
                    emitted = True
                elif emitted and len(seen["workers"]) >= 2:
                    break
        assert "could not be shown" in seen["totals"][0] and "OverflowError" in seen["totals"][0]
        assert 'data-count="queued">1<' in seen["workers"][-1]
    finally:
        served.stop()


# -- 21: errors are JSON everywhere, no server header ----------------------------------------------
def test_static_errors_are_json(client: TestClient) -> None:
    bad_range = client.get("/static/dashboard.css", headers={"Range": "bytes=999999-"})
    assert_json_error(bad_range, 416)
    assert_json_error(client.get("/static/nothing.js"), 404)
    assert_json_error(client.post("/static/dashboard.js"), 405)
    assert_json_error(client.get("/static/dashboard.css", headers={"Range": "bytes=oops"}), 400)


def test_no_server_header(web_app: conveyor.App) -> None:
    served = Served(web_app)
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            response = http.get("api/workers")
            assert response.status_code == 200 and "server" not in response.headers
    finally:
        served.stop()


# -- 22: OpenAPI under a mount ---------------------------------------------------------------------
def test_openapi_names_the_mount_as_its_server(web_app: conveyor.App) -> None:
    outer = Starlette(routes=[Mount("/ops/conveyor", app=conveyor.web(web_app, token=""))])
    with local(outer) as c:
        assert c.get("/ops/conveyor/openapi.json").json()["servers"] == [{"url": "/ops/conveyor"}]
    with local(conveyor.web(web_app, token="")) as c:
        assert c.get("/openapi.json").json()["servers"] == [{"url": "/"}]
