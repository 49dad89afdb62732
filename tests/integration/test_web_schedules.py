"""The schedules' HTTP API, dashboard section and Prometheus gauges: through Starlette's test client
for an app's own schedules (every store), and against a real ``conveyor run`` for ticks."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import conveyor
from conveyor._web import create_app

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402 - after the filter above

BASE = "http://127.0.0.1"
LOCAL = ("127.0.0.1", 50000)
WRITE = {"X-Conveyor-Request": "1"}


def define(app: conveyor.App) -> conveyor.App:
    @app.worker("report")
    def report(event: Any) -> Any:
        return event

    app.schedule("nightly-report", "report", cron="0 3 * * *", tz="Europe/Paris")
    app.schedule("tick", "report", event={"n": 1}, every=30, misfire="all")
    return app


@pytest.fixture
def client(app: conveyor.App) -> Iterator[TestClient]:
    define(app)
    with TestClient(create_app(app, token=""), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        yield c


def schedules(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/schedules")
    assert response.status_code == 200, response.text
    return {s["name"]: s for s in response.json()}


def test_list_pause_and_resume(client: TestClient, app: conveyor.App) -> None:
    found = schedules(client)
    assert list(found) == ["nightly-report", "tick"]
    tick = found["tick"]
    assert tick | {"next_at": None} == {
        "name": "tick",
        "worker": "report",
        "cron": None,
        "every": 30,
        "tz": "UTC",
        "misfire": "all",
        "paused": False,
        "last_at": None,
        "next_at": None,
    }
    next_at = datetime.fromisoformat(tick["next_at"])
    assert next_at.tzinfo is not None and next_at.timestamp() % 30 == 0  # whole multiples of every
    assert 0 < (next_at - datetime.now(UTC)).total_seconds() <= 30
    assert found["nightly-report"]["cron"] == "0 3 * * *" and found["nightly-report"]["tz"] == "Europe/Paris"

    response = client.post("/api/schedules/tick/pause")
    assert response.status_code == 200 and response.json() == {"schedule": "tick", "paused": True}
    assert {s.name: s.paused for s in app.schedules()} == {"nightly-report": False, "tick": True}
    assert schedules(client)["tick"]["paused"] is True
    response = client.post("/api/schedules/tick/resume")
    assert response.status_code == 200 and response.json() == {"schedule": "tick", "paused": False}
    assert not any(s.paused for s in app.schedules())


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/schedules/weekly/pause", 404),
        ("/api/schedules/report/resume", 404),  # a worker, not a schedule
        ("/api/schedules/bad%20name/pause", 400),
        ("/api/schedules/-x/resume", 400),
        ("/api/schedules/%00/pause", 400),
        (f"/api/schedules/{'x' * 201}/pause", 400),
        ("/api/schedules/tick/stop", 404),
    ],
)
def test_unknown_names_are_404_and_invalid_ones_400(
    client: TestClient, app: conveyor.App, path: str, status: int
) -> None:
    before = app.schedules()
    response = client.post(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert app.schedules() == before


def test_writes_need_the_request_header(client: TestClient, app: conveyor.App) -> None:
    response = client.post("/api/schedules/tick/pause", headers={"X-Conveyor-Request": ""})
    assert response.status_code == 403
    response = client.post("/api/schedules/tick/pause", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert not any(s.paused for s in app.schedules())
    assert client.get("/api/schedules", headers={"X-Conveyor-Request": ""}).status_code == 200


def test_documented_in_openapi(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    listing = doc["paths"]["/api/schedules"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/ScheduleStatus")
    schema = doc["components"]["schemas"]["ScheduleStatus"]
    assert set(schema["required"]) == set(schedules(client)["tick"])
    for verb in ("pause", "resume"):
        responses = doc["paths"][f"/api/schedules/{{name}}/{verb}"]["post"]["responses"]
        assert {"200", "400", "403", "404"} <= set(responses)


def test_dashboard_section(client: TestClient) -> None:
    page = client.get("/schedules").text
    row = re.search(r'<tr data-schedule="nightly-report">.*?</tr>', page, re.S)
    assert row is not None
    assert "0 3 * * *" in row.group() and "Europe/Paris" in row.group() and "never" in row.group()
    assert 'data-action="pause-schedule"' in row.group() and 'class="badge ok"' in row.group()
    assert "every 30 s" in page
    client.post("/api/schedules/nightly-report/pause")
    row = re.search(r'<tr data-schedule="nightly-report">.*?</tr>', client.get("/schedules").text, re.S)
    assert row is not None
    assert 'data-action="resume-schedule"' in row.group() and 'class="badge paused"' in row.group()


def test_no_schedules_no_section(app: conveyor.App) -> None:
    with TestClient(create_app(app, token=""), base_url=BASE, client=LOCAL, headers=WRITE) as c:
        assert c.get("/api/schedules").json() == []
        assert "No schedules" in c.get("/schedules").text
        assert re.search(r"^conveyor_schedule_", c.get("/metrics").text, re.M) is None  # no samples


def test_metrics(client: TestClient, app: conveyor.App) -> None:
    text = client.get("/metrics").text
    for s in app.schedules():
        assert s.next_at is not None
        line = f'conveyor_schedule_next_run_timestamp_seconds{{schedule="{s.name}",worker="report"}}'
        value = re.search(re.escape(line) + r" (\S+)", text)
        assert value is not None, text
        assert float(value.group(1)) == s.next_at.timestamp()
        assert f'conveyor_schedule_paused{{schedule="{s.name}",worker="report"}} 0.0' in text
    assert "conveyor_schedule_last_run_timestamp_seconds{" not in text  # never ticked
    client.post("/api/schedules/tick/pause")
    text = client.get("/metrics").text
    assert 'conveyor_schedule_paused{schedule="tick",worker="report"} 1.0' in text
    assert 'conveyor_schedule_next_run_timestamp_seconds{schedule="tick"' not in text


# -- against a real runner ------------------------------------------------------------------------

APP = """
import conveyor

app = conveyor.App()

@app.worker("report")
def report(event):
    return event

app.schedule("tick", "report", every=1)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def running(url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    script = tmp_path / "tick_app.py"
    script.write_text(APP)
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    proc = subprocess.Popen(
        [exe, "run", str(script), "--store", url, "--no-web", "--processes", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "CONVEYOR_STORE"},
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


@pytest.mark.slow
def test_a_live_runners_schedule_ticks_in_the_api_and_metrics(url: str, running: Any) -> None:
    web = conveyor.App(url)  # no schedules of its own: it lists what the runner publishes
    try:
        with TestClient(create_app(web, token=""), base_url=BASE, client=LOCAL, headers=WRITE) as c:
            last = until(lambda: (c.get("/api/schedules").json() or [{}])[0].get("last_at"))
            ticked = datetime.fromisoformat(last)
            assert ticked.microsecond == 0 and ticked <= datetime.now(UTC)
            text = c.get("/metrics").text
            found = re.search(
                r'conveyor_schedule_last_run_timestamp_seconds\{schedule="tick",worker="report"\} (\S+)', text
            )
            assert found is not None, text
            assert float(found.group(1)) >= ticked.timestamp()
            assert 'conveyor_schedule_next_run_timestamp_seconds{schedule="tick",worker="report"}' in text
            page = c.get("/schedules").text
            assert '<tr data-schedule="tick">' in page and "every 1 s" in page
            assert c.post("/api/schedules/tick/pause").status_code == 200
            assert c.get("/api/schedules").json()[0]["paused"] is True
    finally:
        web.close()
