"""``Message.meta`` and ``on_emit`` through the other faces: an HTTP emit runs the app's hooks (and a
failing one is a 4xx with nothing written); the JSON API, the dashboard and the CLI show meta."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import conveyor
from conveyor._cli import main
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

WRITE = {"X-Conveyor-Request": "1"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[conveyor.App]:
    app = conveyor.App(f"sqlite:///{tmp_path / 'faces.db'}")

    @app.on_emit
    def tenant(out: conveyor.OutgoingMessage) -> None:
        if out.event == "refused":
            raise ValueError("no tenant for this event")
        out.meta["tenant"] = "acme <&>"

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    yield app
    app.close()


def test_http_emit_runs_hooks_and_every_face_shows_meta(app: conveyor.App) -> None:
    with TestClient(
        create_app(app, token=""), base_url="http://127.0.0.1", client=("127.0.0.1", 50000), headers=WRITE
    ) as client:
        response = client.post("/api/emit/w", content=b'{"n": 1}')
        assert response.status_code == 202, response.text
        message_id = response.json()["id"]
        assert client.get(f"/api/messages/{message_id}").json()["meta"] == {"tenant": "acme <&>"}
        assert [m["meta"] for m in client.get("/api/messages").json()] == [{"tenant": "acme <&>"}]
        page = client.get(f"/messages/{message_id}").text
        assert "<code>tenant</code> = <code>acme &lt;&amp;&gt;</code>" in page
        refused = client.post("/api/emit/w", content=b'"refused"')
        assert refused.status_code == 400, refused.text
        assert "no tenant for this event" in refused.json()["error"]
        assert len(client.get("/api/messages").json()) == 1

    env = {"CONVEYOR_STORE": app.url}
    shown = CliRunner().invoke(main, ["message", str(message_id), "--json"], env=env)
    assert shown.exit_code == 0, shown.stderr
    assert orjson.loads(shown.stdout)["meta"] == {"tenant": "acme <&>"}
    table = CliRunner().invoke(main, ["message", str(message_id)], env=env)
    assert "tenant=acme <&>" in table.stdout
