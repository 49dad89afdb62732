"""The dashboard's pages through the ASGI app (the browser tests drive them in Chromium): bad page
parameters are one 400 each, a lost runner is marked, and the stats the web app keeps for settled
minutes add up to what the store holds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

import conveyor
from conveyor._histogram import bucket
from conveyor._stats import RunnerStatus
from conveyor._stores._base import Settlement, StatsRow
from conveyor._web import create_app
from conveyor._web._statscache import SETTLED, StatsCache

BASE = "http://127.0.0.1"
LOCAL = ("127.0.0.1", 50000)


@pytest.fixture
def client(app: conveyor.App) -> Iterator[TestClient]:
    @app.worker("w")
    def handle(event: Any) -> None:
        pass

    with TestClient(create_app(app, token=""), base_url=BASE, client=LOCAL) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/workers/w?after=1.5", "after must be"),
        ("/workers/w?after=nan_1", "after must be"),
        ("/workers/w?state=done", "state must be"),
        ("/?range=week", "range must be"),
        ("/api/stream?page=worker", "page must be"),
        ("/api/stream?page=nowhere", "page must be"),
        ("/workers/w?q=" + "x" * 201, "q must be"),
        ("/workers/w?q=a%00b", "q must be"),
    ],
)
def test_a_bad_page_parameter_is_one_400(client: TestClient, path: str, said: str) -> None:
    response = client.get(path)
    assert response.status_code == 400 and said in response.json()["error"], response.text


def test_a_lost_runner_is_marked(
    client: TestClient, app: conveyor.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    runners = [
        RunnerStatus("r-live", "host-a", 10, now, now, 8, 1, [41], ["w"], "live"),
        RunnerStatus("r-lost", "host-b", 20, now, now, 8, 2, [42, 43], ["w"], "lost"),
    ]
    monkeypatch.setattr(app, "runners", lambda: runners)
    page = client.get("/runners").text
    live, lost = page.split('data-runner="r-live"')[1], page.split('data-runner="r-lost"')[1]
    assert 'data-state="live"' in live.split("</tr>")[0] and "badge lost" not in live.split("</tr>")[0]
    lost_row = lost.split("</tr>")[0]
    assert 'class="lost"' in lost_row and '<span class="badge lost"' in lost_row
    assert 'href="/messages/42"' in lost_row and ">2/8<" in lost_row
    overview = client.get("/").text
    assert "1 lost" in overview and "1/8 slots busy" in overview  # busy slots count live runners only


def test_kept_stats_add_up_to_the_store(app: conveyor.App) -> None:
    store = app.store
    now = time.time()
    minute = int(now) // 60 * 60
    wait = {bucket(0.01): 2}
    rows = [
        StatsRow(w, minute - 60 * m, processed=m + 1, failed=1, wait=wait) for m in range(30) for w in "ab"
    ]
    store.settle("r", Settlement(stats=rows))
    cache = StatsCache()
    first = cache.sums(store, 60, now)
    assert first == {w: (sum(range(1, 31)), 30) for w in "ab"}
    # Settled minutes are read once: a row written into one of them afterwards is not seen again...
    store.settle("r", Settlement(stats=[StatsRow("a", minute - 60 * 20, processed=1000)]))
    assert cache.sums(store, 60, now) == first
    # ...while the minutes that may still change are read every time.
    store.settle("r", Settlement(stats=[StatsRow("a", minute, processed=5)]))
    assert cache.sums(store, 60, now)["a"] == (first["a"][0] + 5, 30)
    series = cache.series(store, None, 60, now)
    fresh = store.stats_series(None, minute - 3540, 2**62, 60)
    assert series == fresh and series[minute].processed == 2 + 5
    assert cache.series(store, "b", 60, now)[minute - 60 * 29].wait == wait
    assert SETTLED >= 60
