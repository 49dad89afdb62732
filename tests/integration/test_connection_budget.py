"""``conveyor run --max-connections``: 8 runner processes and the web face, idle and under load, stay
within the budget, as ``pg_stat_activity`` counts them (by application_name: conveyor-runner, -web)."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner

import conveyor
from conveyor._cli import main
from conveyor._stores._probe import probe

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from deploy_harness import Served, python_path, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::conveyor.UnknownWorkerWarning")

APP = """
import time
import conveyor

app = conveyor.App()

@app.worker("fan")
def fan(event):
    time.sleep(0.002)
    conveyor.emit(event, "leaf")  # handlers' emits: the emit lane, else the pool

@app.worker("leaf")
def leaf(event):
    pass
"""


class Sampler(threading.Thread):
    """The most connections to the test's database seen at once, per application_name (every 20 ms),
    but the test's own: its emitter, this sampler and the runners probe (conveyor-health)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.conn = psycopg.connect(url, autocommit=True, application_name="budget-sampler")
        self.peak: Counter[str] = Counter()
        self.total = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rows = self.conn.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name NOT LIKE 'budget-%' AND application_name <> 'conveyor-health' "
                "GROUP BY 1"
            ).fetchall()
            for name, count in rows:
                self.peak[name] = max(self.peak[name], count)
            self.total = max(self.total, sum(count for _name, count in rows))
            time.sleep(0.02)

    def stop(self) -> None:
        self.halt.set()
        self.join(10)
        self.conn.close()


@pytest.fixture
def sampler(pg_url: str) -> Iterator[Sampler]:
    s = Sampler(pg_url)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def test_eight_runner_processes_and_the_web_face_stay_within_max_connections(
    pg_url: str, tmp_path: Path, sampler: Sampler
) -> None:
    budget = 36  # the web face 4, each of 8 runners (36 - 4) // 8 = 4
    (tmp_path / "connapp.py").write_text(APP)
    run = Served(
        tmp_path / "run.log",
        "run", "connapp:app", "--store", pg_url, "--processes", "8", "--port", "0",
        "--max-connections", str(budget),
        env={"PYTHONPATH": python_path(tmp_path)},
        cwd=tmp_path,
    )  # fmt: skip
    emitter = conveyor.App(f"{pg_url}?application_name=budget-emitter")
    try:
        base = run.wait_served(30)
        wait_for(lambda: len(probe(pg_url).runners) == 8, 60, "8 runners serving")
        time.sleep(1.0)
        idle = sampler.total
        emitter.emit_many([({"n": n}, "fan") for n in range(1000)])
        stop = threading.Event()

        def read_api() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    client.get(f"{base}/api/workers")
                    client.get(f"{base}/readyz")

        readers = [threading.Thread(target=read_api) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            wait_for(
                lambda: not sum(s.queued + s.running for s in emitter.status().values()),
                90,
                "the load handled",
            )
        finally:
            stop.set()
            for t in readers:
                t.join(10)
        assert emitter.status()["leaf"].dead == 0
    finally:
        emitter.close()
        run.close()
    peak = dict(sampler.peak)
    assert sampler.total <= budget, peak
    assert peak.get("conveyor-runner", 0) <= 8 * 4, peak
    assert peak.get("conveyor-web", 0) <= 4, peak
    assert peak.get("conveyor-runner", 0) > 8, peak  # each runner did open more than one under load
    assert idle <= sampler.total


def test_too_small_a_budget_is_refused_before_anything_runs(pg_url: str, tmp_path: Path) -> None:
    (tmp_path / "connapp.py").write_text(APP)
    sys.path.insert(0, str(tmp_path))
    try:
        args = ["run", "connapp:app", "--store", pg_url, "--processes", "8", "--max-connections", "19"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "too small for 8 runner processes" in result.stderr and "20 in all" in result.stderr
        sqlite = ["run", "connapp:app", "--store", f"sqlite:///{tmp_path}/c.db", "--max-connections", "9"]
        result = CliRunner().invoke(main, sqlite)
        assert result.exit_code == 2 and "not PostgreSQL" in result.stderr
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("connapp", None)
