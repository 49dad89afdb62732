"""A worker's rate limit, and whether it holds messages back, as the CLI, the HTTP API, the dashboard and
Prometheus show it."""

from __future__ import annotations

import warnings
from pathlib import Path

import orjson
from click.testing import CliRunner

import conveyor
from conveyor._cli import main
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above


def _held_back(url: str) -> conveyor.App:
    """An app whose worker "w" (3 an hour) started 3 of 5 messages: 2 wait for the rate."""
    app = conveyor.App(url)
    app.worker("w", rate=(3, 3600))(lambda event: None)
    app.worker("plain")(lambda event: None)
    app.emit_many([({"i": i}, "w") for i in range(5)])
    app.emit({}, "plain")
    runner = app.runner()
    assert len(app.store.claim(runner.id, {"w": None}, 10, 30.0, rates=app.registry.rates())) == 3
    return app


def test_every_face_shows_the_rate_and_that_it_holds_messages_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'faces.db'}"
    app = _held_back(url)

    # The CLI reads the store alone (no app loaded): the bucket says the rate it runs under.
    shown = CliRunner().invoke(main, ["status"], env={"CONVEYOR_STORE": url})
    assert shown.exit_code == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if " w " in f" {line} ")
    assert "3/h, holding back" in row
    listed = CliRunner().invoke(main, ["status", "--json"], env={"CONVEYOR_STORE": url})
    workers = {w["name"]: w for w in orjson.loads(listed.stdout)}
    assert (workers["w"]["rate"], workers["w"]["rate_limited"], workers["w"]["queued"]) == ("3/h", True, 2)
    assert (workers["plain"]["rate"], workers["plain"]["rate_limited"]) == (None, False)

    with TestClient(create_app(app, token=""), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
        api = {w["name"]: w for w in c.get("/api/workers").json()}
        assert (api["w"]["rate"], api["w"]["rate_limited"]) == ("3/h", True)
        schema = c.get("/openapi.json").json()["components"]["schemas"]["WorkerStatus"]
        assert {"rate", "rate_limited"} <= set(schema["required"])
        page = c.get("/").text
        assert 'data-rate="3/h"' in page and "holding back" in page
        metrics = c.get("/metrics").text
        assert 'conveyor_rate_held_messages{worker="w"} 2.0' in metrics
        assert 'conveyor_rate_held_messages{worker="plain"}' not in metrics
