"""Hostile worker names and event strings through the CLI and the HTTP API: clear errors and nothing
stored, or stored verbatim and inert (the Python API: tests/contract/test_hostile.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from click.testing import CliRunner

import conveyor
from conveyor._cli import main

warnings.filterwarnings("ignore", message="Using `httpx`")  # starlette prefers httpx2; either works
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

SQL = "x'); DROP TABLE messages; --"
NAMES = [SQL, "<script>alert(1)</script>", "nul\x00name", "../../etc/passwd", "a" * 5000]
STRINGS = [SQL, "<script>alert(1)</script>", "nul\x00byte", "%s {0} $(rm -rf /)"]
TEN_MB = '"' + "x" * (10 * 1024 * 1024) + '"'


@pytest.fixture
def app(tmp_path: Path) -> Iterator[conveyor.App]:
    app = conveyor.App(f"sqlite:///{tmp_path / 'hostile.db'}")

    @app.worker("w")
    def handle(event: object) -> object:
        return event

    yield app
    app.close()


def cli(app: conveyor.App, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input, env={"CONVEYOR_STORE": app.url})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", [n for n in NAMES if "\x00" not in n])  # argv cannot carry NUL
def test_cli_refuses_hostile_names(app: conveyor.App, name: str) -> None:
    code, out, err = cli(app, "emit", name, "{}")
    assert code == 2 and err.count("\n") == 1 and "invalid worker name" in err and out == ""
    assert app.messages() == []


def test_cli_refuses_ten_megabytes_and_malformed_json(app: conveyor.App) -> None:
    code, _, err = cli(app, "emit", "w", input=TEN_MB)
    assert code == 2 and "over the limit" in err
    code, _, err = cli(app, "emit", "w", "{'single': 'quotes'}")
    assert code == 2 and "JSON" in err
    assert app.messages() == []


@pytest.mark.parametrize("text", STRINGS)
def test_cli_stores_hostile_strings_verbatim(app: conveyor.App, text: str) -> None:
    event = {"s": text}
    code, _, err = cli(app, "emit", "w", input=orjson.dumps(event).decode())
    assert code == 0, err
    assert [m.event for m in app.messages()] == [event]


@pytest.fixture
def client(app: conveyor.App) -> Iterator[TestClient]:
    with TestClient(
        conveyor.web(app, token=""),
        base_url="http://127.0.0.1",
        client=("127.0.0.1", 50000),
        headers={"X-Conveyor-Request": "1"},
    ) as client:
        yield client


@pytest.mark.parametrize("name", NAMES)
def test_http_refuses_hostile_names(app: conveyor.App, client: TestClient, name: str) -> None:
    response = client.post(f"/api/emit/{quote(name, safe='')}", content=b"{}")
    assert 400 <= response.status_code < 500 and "error" in response.json()
    assert app.messages() == []


def test_http_refuses_ten_megabytes(app: conveyor.App, client: TestClient) -> None:
    response = client.post("/api/emit/w", content=TEN_MB.encode())
    assert response.status_code == 413 and "error" in response.json()
    assert app.messages() == []


@pytest.mark.parametrize("text", STRINGS)
def test_http_stores_hostile_strings_verbatim_and_the_dashboard_escapes_them(
    app: conveyor.App, client: TestClient, text: str
) -> None:
    event = {"s": text}
    response = client.post("/api/emit/w", content=orjson.dumps(event))
    assert response.status_code == 202, response.text
    assert [m.event for m in app.messages()] == [event]
    page = client.get("/").text
    assert "<script>alert(1)</script>" not in page
