"""Priorities through the CLI (``conveyor emit --priority``) and HTTP (``POST /api/emit/{worker}?priority=``):
given, shown, and refused when bad with nothing written."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

import conveyor
from conveyor._cli import main
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

WRITE = {"X-Conveyor-Request": "1"}


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"CONVEYOR_STORE": url})


def test_cli_emit_priority_is_stored_and_shown_and_a_bad_one_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = cli(url, "emit", "w", "{}", "--priority", "-7")
    assert done.exit_code == 0, done.stderr
    message_id = done.stdout.strip()
    shown = cli(url, "message", message_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    assert orjson.loads(shown.stdout)["priority"] == -7
    assert "priority" in cli(url, "messages").stdout
    for bad in ("101", "-101", "1.5", "x"):
        refused = cli(url, "emit", "w", "{}", "--priority", bad)
        assert refused.exit_code == 2, (bad, refused.stdout, refused.stderr)
    listed = cli(url, "messages", "--json")
    assert [m["priority"] for m in orjson.loads(listed.stdout)] == [-7]


@pytest.fixture
def client(app: conveyor.App) -> Iterator[TestClient]:
    app_ = create_app(app, token="")
    with TestClient(app_, base_url="http://127.0.0.1", client=("127.0.0.1", 50000), headers=WRITE) as c:
        yield c


def test_http_emit_priority_is_stored_and_shown_and_a_bad_one_is_400(client: TestClient) -> None:
    response = client.post("/api/emit/w", content=b"{}", params={"priority": "42"})
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    assert client.get(f"/api/messages/{message_id}").json()["priority"] == 42
    assert [m["priority"] for m in client.get("/api/messages").json()] == [42]
    page = client.get(f"/messages/{message_id}").text
    assert "<dt>Priority</dt><dd>42</dd>" in page
    for bad in ("101", "-101", "1.5", "x", "true"):
        refused = client.post("/api/emit/w", content=b"{}", params={"priority": bad})
        assert refused.status_code == 400, (bad, refused.text)
        assert "priority must be an int from -100 to 100" in refused.text
    assert len(client.get("/api/messages").json()) == 1
