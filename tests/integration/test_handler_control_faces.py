"""Handler control where messages and traces are shown: HTTP JSON and OpenAPI, the dashboard, the CLI."""

from __future__ import annotations

import re
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

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite-file"], indirect=True)


@pytest.fixture
def controlled(app: conveyor.App) -> dict[str, int]:
    @app.worker("snooze")
    def snooze(event: Any) -> None:
        raise conveyor.Incomplete(delay=3600)

    @app.worker("retry", max_attempts=3)
    def retry(event: Any) -> None:
        raise conveyor.Retry(delay=3600)

    @app.worker("cancel")
    def cancel(event: Any) -> None:
        raise conveyor.Cancel("order was deleted")

    ids = {name: app.emit(None, name) for name in ("snooze", "retry", "cancel")}
    assert app.drain() == 3
    return ids


@pytest.fixture
def client(app: conveyor.App, controlled: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(app, token=""), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
        yield c


def test_http_json_and_openapi_show_snoozes_and_the_outcomes(
    client: TestClient, controlled: dict[str, int]
) -> None:
    snoozed = client.get(f"/api/messages/{controlled['snooze']}").json()
    assert (snoozed["snoozes"], snoozed["attempt"], snoozed["state"]) == (1, 0, "scheduled")
    assert [m["snoozes"] for m in client.get("/api/messages", params={"worker": "retry"}).json()] == [0]
    outcomes = {w: client.get(f"/api/workers/{w}/traces").json()[0]["outcome"] for w in controlled}
    assert outcomes == {"snooze": "incomplete", "retry": "retry", "cancel": "cancelled"}
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Message"]["properties"]["snoozes"]["type"] == "integer"
    assert {"incomplete", "retry", "cancelled"} <= set(schemas["Trace"]["properties"]["outcome"]["enum"])


def test_dashboard_shows_snoozes_and_a_badge_per_outcome(
    client: TestClient, controlled: dict[str, int]
) -> None:
    page = client.get(f"/messages/{controlled['snooze']}").text
    assert re.search(r"<dt>Snoozes</dt><dd>1</dd>", page)
    for worker, outcome in (("snooze", "incomplete"), ("retry", "retry"), ("cancel", "cancelled")):
        page = client.get(f"/messages/{controlled[worker]}", params={"worker": worker}).text
        assert f'<span class="badge {outcome}">{outcome}</span>' in page
    css = client.get("/static/dashboard.css").text
    assert ".badge.retry" in css and ".badge.cancelled" in css


def test_cli_message_view_shows_snoozes(app: conveyor.App, controlled: dict[str, int]) -> None:
    env = {"CONVEYOR_STORE": app.url, "COLUMNS": "200"}
    shown = CliRunner().invoke(main, ["message", str(controlled["snooze"])], env=env)
    assert shown.exit_code == 0, shown.output
    assert re.search(r"snoozes\s+1\b", shown.stdout)
    as_json = CliRunner().invoke(main, ["message", str(controlled["snooze"]), "--json"], env=env)
    assert orjson.loads(as_json.stdout)["snoozes"] == 1
    traces = CliRunner().invoke(main, ["traces", "cancel"], env=env)
    assert "cancelled" in traces.stdout and "order was deleted" in traces.stdout
