"""``GET /api/runners`` and ``GET /api/stats`` (docs/http.md#runners-and-stats), through Starlette's
test client: their JSON shapes, filters and bad input."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import conveyor
from conveyor._stores._base import RunnerInfo
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

BASE = "http://127.0.0.1"
LOCAL = ("127.0.0.1", 50000)

RUNNER_KEYS = [
    "id",
    "host",
    "pid",
    "started_at",
    "last_seen",
    "slots",
    "running",
    "running_ids",
    "workers",
    "state",
]
BUCKET_KEYS = [
    "worker",
    "minute",
    "processed",
    "failed",
    "retried",
    "dead",
    "wait_p50",
    "wait_p95",
    "run_p50",
    "run_p95",
]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[conveyor.App]:
    app = conveyor.App(f"sqlite:///{tmp_path / 'web.db'}")
    app.worker("a")(lambda event: None)

    @app.worker("b", max_attempts=1)
    def b(event: Any) -> None:
        raise ValueError("no")

    yield app
    app.close()


@pytest.fixture
def client(app: conveyor.App) -> Iterator[TestClient]:
    with TestClient(create_app(app, token=""), base_url=BASE, client=LOCAL) as c:
        yield c


def test_runners(client: TestClient, app: conveyor.App) -> None:
    assert client.get("/api/runners").json() == []
    app.store.heartbeat("h1:7:ab", ["b", "a"], 30.0, RunnerInfo("h1", 7, 50, [12, 11]))
    (runner,) = client.get("/api/runners").json()
    assert list(runner) == RUNNER_KEYS
    assert runner | {"started_at": None, "last_seen": None} == {
        "id": "h1:7:ab",
        "host": "h1",
        "pid": 7,
        "started_at": None,
        "last_seen": None,
        "slots": 50,
        "running": 2,
        "running_ids": [11, 12],
        "workers": ["a", "b"],
        "state": "live",
    }
    assert runner["started_at"].endswith("+00:00") and runner["last_seen"] >= runner["started_at"]


def test_stats_of_every_worker_with_totals_and_of_one(client: TestClient, app: conveyor.App) -> None:
    assert client.get("/api/stats").json() == []
    app.emit_many([({}, "a")] * 3 + [({}, "b")])
    app.drain()
    every = client.get("/api/stats").json()
    assert all(list(b) == BUCKET_KEYS for b in every)
    counts = [(b["worker"], b["processed"], b["failed"], b["dead"]) for b in every]
    if len(counts) == 3:  # one minute (else the drain straddled a minute's end)
        assert counts == [(None, 4, 1, 1), ("a", 3, 0, 0), ("b", 1, 1, 1)]
    assert every[0]["minute"].endswith(":00+00:00") and every[0]["run_p95"] >= every[0]["run_p50"] > 0
    one = client.get("/api/stats", params={"worker": "b", "minutes": "1440"}).json()
    assert [b["worker"] for b in one] == ["b"] * len(one) and sum(b["dead"] for b in one) == 1
    assert client.get("/api/stats?worker=&minutes=5").json() == every  # empty worker: every worker


@pytest.mark.parametrize(
    "query",
    ["minutes=0", "minutes=1441", "minutes=abc", "minutes=", "minutes=-5", "minutes=1.5", "worker=%20x"],
)
def test_bad_stats_queries_are_a_400(client: TestClient, query: str) -> None:
    response = client.get(f"/api/stats?{query}")
    assert response.status_code == 400
    assert list(response.json()) == ["error"]


def test_both_are_documented_in_the_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["paths"]["/api/runners"]["get"]["operationId"] == "listRunners"
    assert doc["paths"]["/api/stats"]["get"]["operationId"] == "listStats"
    schemas = doc["components"]["schemas"]
    assert schemas["RunnerStatus"]["required"] == RUNNER_KEYS
    assert schemas["StatsBucket"]["required"] == BUCKET_KEYS
