"""Results where users read them: ``conveyor result``, ``GET /api/messages/{id}/result`` (long poll,
OpenAPI) and the dashboard's message page."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import conveyor
from conveyor._cli import main
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite-file", "postgres"], indirect=True)


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque>"


@pytest.fixture
def finished(app: conveyor.App) -> dict[str, int]:
    @app.worker("w", results=600)
    def w(event: Any) -> Any:
        if event == "cancel":
            raise conveyor.Cancel("order was deleted")
        if event == "opaque":
            return Opaque()
        return {"echo": event}

    ids = {name: app.emit(name, "w") for name in ("plain", "cancel", "opaque")}
    assert app.drain() == 3
    ids["later"] = app.emit("later", "w", delay=3600)
    return ids


@pytest.fixture
def client(app: conveyor.App, finished: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(app, token=""), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
        yield c


def test_http_result_states(client: TestClient, finished: dict[str, int]) -> None:
    ok = client.get(f"/api/messages/{finished['plain']}/result")
    assert ok.status_code == 200
    body = ok.json()
    assert (body["id"], body["state"], body["value"], body["repr"]) == (
        finished["plain"],
        "ok",
        {"echo": "plain"},
        False,
    )
    assert body["finished_at"].endswith("+00:00")
    opaque = client.get(f"/api/messages/{finished['opaque']}/result").json()
    assert (opaque["value"], opaque["repr"]) == ("<Opaque>", True)
    cancelled = client.get(f"/api/messages/{finished['cancel']}/result").json()
    assert (cancelled["state"], cancelled["error"]) == ("cancelled", "order was deleted")
    pending = client.get(f"/api/messages/{finished['later']}/result", params={"wait": "0.1"})
    assert (pending.status_code, pending.json()) == (200, {"id": finished["later"], "state": "pending"})
    missing = client.get("/api/messages/999999/result")
    assert missing.status_code == 404 and "no kept result" in missing.json()["error"]


@pytest.mark.parametrize("wait", ["-1", "soon", "nan"])
def test_http_result_bad_wait_is_a_400(client: TestClient, finished: dict[str, int], wait: str) -> None:
    answer = client.get(f"/api/messages/{finished['plain']}/result", params={"wait": wait})
    assert answer.status_code == 400 and "wait must be" in answer.json()["error"]
    assert client.get("/api/messages/0/result").status_code == 400
    assert client.get("/api/messages/abc/result").status_code == 400


def test_http_result_long_polls_until_the_message_finishes(
    app: conveyor.App, client: TestClient, finished: dict[str, int]
) -> None:
    mid = app.emit("soon", "w", delay=0.3)

    def drain() -> None:
        time.sleep(0.4)
        app.drain(timeout=30)

    thread = threading.Thread(target=drain)
    thread.start()
    try:
        answer = client.get(f"/api/messages/{mid}/result", params={"wait": "1000"})  # capped, answered early
    finally:
        thread.join()
    assert answer.json() == {
        "id": mid,
        "state": "ok",
        "value": {"echo": "soon"},
        "repr": False,
        "finished_at": answer.json()["finished_at"],
    }


def test_openapi_documents_the_result_route(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    get = doc["paths"]["/api/messages/{id}/result"]["get"]
    assert [p["name"] for p in get["parameters"]] == ["id", "wait"]
    assert {"200", "400", "404"} <= set(get["responses"])
    assert doc["components"]["schemas"]["Result"]["properties"]["state"]["enum"] == [
        "ok",
        "dead",
        "cancelled",
        "pending",
    ]


def test_the_message_page_shows_the_kept_result(client: TestClient, finished: dict[str, int]) -> None:
    page = client.get(f"/messages/{finished['plain']}")
    assert page.status_code == 200  # the message is gone; its result is kept
    assert '<dl id="result">' in page.text and "&#34;echo&#34;" in page.text
    assert '<span class="badge ok">ok</span>' in page.text
    cancelled = client.get(f"/messages/{finished['cancel']}").text
    assert '<span class="badge cancelled">cancelled</span>' in cancelled and "order was deleted" in cancelled
    assert "not JSON: its repr" in client.get(f"/messages/{finished['opaque']}").text
    assert '<dl id="result">' not in client.get(f"/messages/{finished['later']}").text


def test_cli_result(app: conveyor.App, finished: dict[str, int]) -> None:
    env = {"CONVEYOR_STORE": app.url}
    run = CliRunner().invoke
    ok = run(main, ["result", str(finished["plain"])], env=env)
    assert (ok.exit_code, orjson.loads(ok.stdout)) == (0, {"echo": "plain"})
    as_json = orjson.loads(run(main, ["result", str(finished["plain"]), "--json"], env=env).stdout)
    assert (as_json["state"], as_json["value"]) == ("ok", {"echo": "plain"})
    opaque = run(main, ["result", str(finished["opaque"])], env=env)
    assert opaque.exit_code == 0 and opaque.stdout == "<Opaque>\n" and "not JSON" in opaque.stderr
    cancelled = run(main, ["result", str(finished["cancel"])], env=env)
    assert cancelled.exit_code == 1
    assert cancelled.stderr.strip() == f"message {finished['cancel']} was cancelled: order was deleted"
    pending = run(main, ["result", str(finished["later"]), "--wait", "0.1", "--json"], env=env)
    assert (pending.exit_code, orjson.loads(pending.stdout)["state"]) == (3, "pending")
    missing = run(main, ["result", "999999"], env=env)
    assert missing.exit_code == 1 and "no kept result" in missing.stderr
    bad = run(main, ["result", "x"], env=env)
    assert bad.exit_code == 2


def test_cli_result_waits_for_the_message(app: conveyor.App, finished: dict[str, int]) -> None:
    mid = app.emit("soon", "w", delay=0.2)

    def drain() -> None:
        time.sleep(0.3)
        app.drain(timeout=30)

    thread = threading.Thread(target=drain)
    thread.start()
    try:
        shown = CliRunner().invoke(
            main, ["result", str(mid), "--wait", "30"], env={"CONVEYOR_STORE": app.url}
        )
    finally:
        thread.join()
    assert (shown.exit_code, orjson.loads(shown.stdout)) == (0, {"echo": "soon"})


def test_a_then_message_shows_its_group(app: conveyor.App, client: TestClient) -> None:
    ids = app.emit_many([("a", "w"), ("b", "w")], then=(None, "w", {"delay": 3600}))
    app.drain()
    (then,) = [m for m in app.messages(worker="w") if m.group is not None]
    assert client.get(f"/api/messages/{then.id}").json()["group"] == ids
    page = client.get(f"/messages/{then.id}").text
    assert f'<a href="/messages/{ids[0]}">{ids[0]}</a>' in page
    shown = CliRunner().invoke(
        main, ["message", str(then.id)], env={"CONVEYOR_STORE": app.url, "COLUMNS": "200"}
    )
    assert f"{ids[0]} {ids[1]}" in shown.stdout
