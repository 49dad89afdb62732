"""``conveyor run``, ``web``, ``demo`` and ``status --watch`` as real processes, stopped by signals."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import pytest

import conveyor

pytestmark = pytest.mark.slow

APP = """
import conveyor

app = conveyor.App()

@app.worker("work")
def work(event):
    print("working on", event)
    return {"done": event}
"""


class Proc:
    """A ``conveyor`` subprocess whose output lines are collected as they come."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
        self.process = subprocess.Popen(
            [exe, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} in {self.seen!r}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.kill()


def _until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_run_serves_the_api_and_processes_until_sigterm(tmp_path: Path, procs: list[Proc]) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP)
    store = f"sqlite:///{tmp_path / 'run.db'}"
    proc = Proc("run", str(script), "--store", store, "--port", "0", "--processes", "1", "--grace", "5")
    procs.append(proc)
    url = proc.wait_for(r"dashboard and API on (http://\S+)").group(1)
    with httpx.Client(base_url=url, timeout=10, headers={"X-Conveyor-Request": "1"}) as http:
        ids = [http.post("/api/emit/work", content=f'{{"n": {n}}}').json()["id"] for n in range(5)]

        def done() -> bool:
            traces = http.get("/api/workers/work/traces").json()
            return {t["message_id"] for t in traces} >= set(ids)

        _until(done)
        assert http.get("/api/workers").json()[0]["queued"] == 0
        assert "conveyor_queue_depth" in http.get("/metrics").text
    assert proc.stop(signal.SIGTERM) == 0


def test_run_without_web(tmp_path: Path, procs: list[Proc]) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP)
    store = f"sqlite:///{tmp_path / 'run.db'}"
    proc = Proc("run", f"{script}:app", "--store", store, "--no-web", "--processes", "1")
    procs.append(proc)
    proc.wait_for(r"running work on")
    assert not any("dashboard" in line for line in proc.seen)
    time.sleep(1.5)  # the supervisor's signal handlers are in place (a Ctrl-C before that exits 130)
    assert proc.stop(signal.SIGINT) == 0


def test_web_with_token_on_all_interfaces(tmp_path: Path, procs: list[Proc]) -> None:
    store = f"sqlite:///{tmp_path / 'web.db'}"
    token = "t0ken-of-16-chars"  # beyond loopback a token needs 16 characters or more
    proc = Proc("web", "--store", store, "--host", "0.0.0.0", "--port", "0", env={"CONVEYOR_TOKEN": token})
    procs.append(proc)
    port = proc.wait_for(r"dashboard and API on http://0\.0\.0\.0:(\d+)/").group(1)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        assert http.get("/api/workers").status_code == 401
        assert http.get("/api/workers", headers={"Authorization": f"Bearer {token}"}).json() == []
    assert proc.stop(signal.SIGINT) == 0


def test_stream_sends_sections(tmp_path: Path, procs: list[Proc]) -> None:
    store = f"sqlite:///{tmp_path / 'web.db'}"
    proc = Proc("web", "--store", store, "--port", "0")
    procs.append(proc)
    url = proc.wait_for(r"dashboard and API on (http://\S+)").group(1)
    with httpx.Client(base_url=url, timeout=10, headers={"X-Conveyor-Request": "1"}) as http:
        http.post("/api/emit/streamed", content=b'"<script>x</script>"')
        sections: dict[str, str] = {}
        with http.stream("GET", "/api/stream?worker=streamed") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    data = orjson.loads(line[6:])
                    sections[data["id"]] = data["html"]
                if {"rules", "charts", "messages"} <= set(sections):
                    break
    assert 'data-worker="streamed"' in sections["rules"]
    assert "&lt;script&gt;x&lt;/script&gt;" in sections["messages"] and "<script>" not in sections["messages"]
    assert proc.stop() == 0


def test_status_watch_is_live(tmp_path: Path, procs: list[Proc]) -> None:
    store = f"sqlite:///{tmp_path / 'watch.db'}"
    conveyor.App(store).store.close()  # the store exists (a read never creates it), with no workers
    proc = Proc("status", "--watch", "--interval", "0.2", "--json", "--store", store)
    procs.append(proc)
    proc.wait_for(r'"workers":\[\]')
    _emit(store)
    proc.wait_for(r'"name":"watched","queued":1')
    assert proc.stop(signal.SIGINT) == 0


def _emit(store: str) -> None:
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    subprocess.run(
        [exe, "emit", "watched", "{}", "--store", store], check=True, timeout=30, capture_output=True
    )


def test_status_watch_table(tmp_path: Path, procs: list[Proc]) -> None:
    store = f"sqlite:///{tmp_path / 'watch.db'}"
    _emit(store)
    proc = Proc("status", "--watch", "--interval", "0.2", "--store", store)
    procs.append(proc)
    time.sleep(1.0)
    assert proc.stop(signal.SIGINT) == 0
    proc.wait_for(r"watched\s+unknown\s+1\s+0\s+0\s+0")


def test_status_watch_piped_prints_a_table_per_refresh_and_stops_on_sigterm(
    tmp_path: Path, procs: list[Proc]
) -> None:
    store = f"sqlite:///{tmp_path / 'watch.db'}"
    _emit(store)
    proc = Proc("status", "--watch", "--interval", "0.2", "--store", store)  # stdout is a pipe
    procs.append(proc)
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    proc.wait_for(stamp)
    proc.wait_for(r"watched\s+unknown\s+1\s+0\s+0\s+0")
    proc.wait_for(stamp)  # the next refresh, as it comes
    _emit(store)
    proc.wait_for(r"watched\s+unknown\s+2\s+0\s+0\s+0")
    assert proc.stop(signal.SIGTERM) == 0


def test_status_watch_json_stops_on_sigterm(tmp_path: Path, procs: list[Proc]) -> None:
    store = f"sqlite:///{tmp_path / 'watch.db'}"
    _emit(store)
    proc = Proc("status", "--watch", "--interval", "0.2", "--json", "--store", store)
    procs.append(proc)
    proc.wait_for(r'"name":"watched","queued":1')
    assert proc.stop(signal.SIGTERM) == 0


def test_demo_prints_its_address_and_runs(procs: list[Proc]) -> None:
    proc = Proc("demo", "--port", "0", "--rate", "20", "--seconds", "8")
    procs.append(proc)
    url = proc.wait_for(r"Conveyor demo: open (http://\S+)").group(1)
    with httpx.Client(base_url=url, timeout=10) as http:

        def fanned_out() -> bool:
            names = {w["name"] for w in http.get("/api/workers").json()}
            traces = http.get("/api/workers/orders/traces").json()
            return {"orders", "email", "thumbnail"} <= names and any(t["emitted"] for t in traces)

        _until(fanned_out, timeout=15)
        assert "Conveyor" in http.get("/").text
    assert proc.process.wait(30) == 0
    proc.wait_for(r"stopped after")
