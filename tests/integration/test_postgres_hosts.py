"""PostgreSQL with many hosts (processes) on one database: claims, global caps, rescue, wake-ups."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import conveyor
from _shared import in_ci, pg_exclusive
from conveyor._runtime import Runner, RunnerOptions
from conveyor._stores import NewMessage, open_store

pytestmark = pytest.mark.slow

CLAIMER = textwrap.dedent(
    """
    import json, sys, time
    from conveyor._stores import open_store
    url, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = open_store(url)
    store.claim(name, {"warm": None}, 1, 60.0)  # connect and prepare before the start line
    got = []
    while time.time() < start_at:
        pass
    for _ in range(40):
        got += [(c.worker, c.id) for c in store.claim(name, {"capped": 5, "free": None}, 7, 60.0)]
    store.close()
    print(json.dumps(got))
    """
)

HOST = textwrap.dedent(
    """
    import json, logging, os, sys, time
    import conveyor
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    url, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    app = conveyor.App(url, lease=1.0)

    def note(*fields):
        with open(out, "a") as f:
            f.write(json.dumps(fields) + "\\n")

    @app.worker("capped", concurrency=3)
    def capped(event):
        started = time.time()
        time.sleep(0.02)
        note("capped", event, os.getpid(), started, time.time())

    @app.worker("stuck")
    def stuck(event, msg):
        note("stuck-start", msg.id, os.getpid(), msg.attempt)
        time.sleep(3600)

    @app.worker("record")
    def record(event, msg):
        note("record", msg.id, os.getpid(), time.time())

    @app.worker("slow")
    def slow(event, msg):
        time.sleep(0.01)
        note("slow", msg.id, os.getpid(), time.time())

    if mode == "drain-until-empty":
        app.status()  # connected and ready; then start together with the other hosts
        while time.time() < float(os.environ.get("START_AT", "0")):
            time.sleep(0.005)
        while True:
            app.drain(timeout=60)
            left = app.status()["capped"]
            if left.queued + left.running + left.scheduled == 0:
                break
            time.sleep(0.01)
    elif mode == "run":
        app.drain(timeout=3600)
    elif mode.startswith("drain-all:"):
        import asyncio
        _, worker, slots = mode.split(":")
        while True:  # as a host would: keep running until that worker has nothing left anywhere
            try:
                asyncio.run(app.runner(concurrency=int(slots)).drain())
                left = app.status()[worker]
            except Exception as error:  # the database is restarting: a supervisor would start us again
                logging.warning("host: store unavailable (%s); starting again", error)
                time.sleep(0.2)
                continue
            if left.queued + left.running + left.scheduled == 0:
                break
            time.sleep(0.05)
    elif mode.startswith("emit:"):
        worker = mode.split(":", 1)[1]
        note("emit", app.emit({"sent": time.time()}, worker), time.time())
    elif mode.startswith("rule:"):
        _, action, worker = mode.split(":")
        getattr(app, action)(worker, *(["blocked by a test"] if action == "block" else []))
    """
)


class Hosts:
    """Child processes standing in for hosts; every one is killed at the end."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp = tmp_path
        self.url = url
        self.out = tmp_path / "out.jsonl"
        self.host = tmp_path / "host.py"
        self.host.write_text(HOST)
        (tmp_path / "claimer.py").write_text(CLAIMER)
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, script: str, *args: str, start_at: float = 0.0) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "START_AT": str(start_at)}
        proc = subprocess.Popen(
            [sys.executable, str(self.tmp / script), self.url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        return proc

    def lines(self, kind: str) -> list[list[Any]]:
        if not self.out.exists():
            return []
        rows = [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]
        return [row[1:] for row in rows if row[0] == kind]

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def hosts(tmp_path: Path, pg_url: str) -> Iterator[Hosts]:
    h = Hosts(tmp_path, pg_url)
    try:
        yield h
    finally:
        h.close()


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for: {what}")
        time.sleep(0.02)


def test_racing_claims_from_many_processes_never_pass_a_cap_nor_share_a_message(hosts: Hosts) -> None:
    """Four processes claim at the same instant, 40 times each, never settling: a capped worker must end
    with exactly its cap running, and no message of the uncapped one may be claimed twice."""
    store = open_store(hosts.url)
    try:
        store.enqueue([NewMessage("capped", b"0") for _ in range(100)])
        store.enqueue([NewMessage("free", b"0") for _ in range(300)])
        start_at = time.time() + 3.0
        procs = [hosts.start("claimer.py", f"host{i}", str(start_at)) for i in range(4)]
        claimed: list[tuple[str, int]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            claimed += [tuple(pair) for pair in json.loads(out)]  # type: ignore[misc]
        capped = [i for w, i in claimed if w == "capped"]
        free = [i for w, i in claimed if w == "free"]
        assert len(capped) == 5, f"cap 5, but {len(capped)} claimed across processes"
        assert len(free) == len(set(free)) == 300
        counts = {c.worker: c for c in store.counts()}
        assert counts["capped"].running == 5 and counts["capped"].queued == 95
    finally:
        store.close()


@pytest.mark.filterwarnings("ignore::conveyor.UnknownWorkerWarning")  # the hosts define the worker
def test_runners_in_three_processes_hold_a_global_concurrency_cap(hosts: Hosts) -> None:
    app = conveyor.App(hosts.url)
    try:
        ids = app.emit_many([(i, "capped") for i in range(120)])
        start_at = time.time() + 3.0
        args = (str(hosts.out), "drain-until-empty")
        procs = [hosts.start("host.py", *args, start_at=start_at) for _ in range(3)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        runs = hosts.lines("capped")
        assert sorted(event for event, *_ in runs) == list(range(120))  # each exactly once
        assert len({pid for _, pid, _, _ in runs}) >= 2  # the work really was shared
        edges = sorted([(start, 1) for *_, start, _ in runs] + [(end, -1) for *_, end in runs])
        running = peak = 0
        for _, step in edges:
            running += step
            peak = max(peak, running)
        assert peak <= 3, f"{peak} ran at once; the cap is 3"
        assert peak == 3  # and the cap was used
        assert app.messages() == [] and len(ids) == 120
    finally:
        app.close()


def test_a_killed_hosts_message_is_rescued_by_another_and_the_expiry_counts_as_an_attempt(
    hosts: Hosts,
) -> None:
    app = conveyor.App(hosts.url, lease=1.0)
    attempts: list[tuple[int, int, str | None]] = []

    @app.worker("stuck")
    def stuck(event: Any, msg: conveyor.Message) -> None:
        attempts.append((msg.id, msg.attempt, msg.last_error))

    try:
        message_id = app.emit({}, "stuck")
        victim = hosts.start("host.py", str(hosts.out), "run")
        wait_for(lambda: bool(hosts.lines("stuck-start")), 30, "the first host started the message")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        (running,) = app.messages(state="running")
        assert running.id == message_id and running.attempt == 1
        wait_for(lambda: app.store.rescue() == 1, 10, "the lease expired and was rescued here")
        assert app.drain(timeout=10) == 1
        ((mid, attempt, error),) = attempts
        assert mid == message_id and attempt == 2
        assert error is not None and "lease expired" in error
        assert app.messages() == []
        assert [(t.outcome, t.attempt) for t in app.traces("stuck")] == [("ok", 2), ("lost", 1)]
    finally:
        app.close()


def _serve(app: conveyor.App, poll: float) -> tuple[Runner, Callable[[], None], threading.Thread]:
    """A runner serving in a thread, polling only every ``poll`` s: only NOTIFY can wake it sooner."""
    runner = Runner(app.registry, app.store, app.emitter, RunnerOptions(slots=4, poll=poll))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def main() -> None:
        loop.run_until_complete(runner.serve(stop, grace=5))
        left = asyncio.all_tasks(loop)  # helpers the runner cancelled: let them finish cancelling
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=main, name="pg-test-runner")
    thread.start()
    return runner, lambda: loop.call_soon_threadsafe(stop.set), thread


def test_an_idle_runner_hears_emits_and_rule_changes_from_other_processes(hosts: Hosts) -> None:
    app = conveyor.App(hosts.url)
    started: list[float] = []

    @app.worker("record")
    def record(event: Any) -> None:
        started.append(time.time() - event["sent"])

    runner, stop, thread = _serve(app, poll=60.0)
    try:
        time.sleep(0.5)  # idle, listening
        hosts.start("host.py", str(hosts.out), "emit:record").wait(30)
        wait_for(lambda: len(started) == 1, 10, "the emit from another process started here")
        assert started[0] < 5.0  # the 60 s poll never came into it
        hosts.start("host.py", str(hosts.out), "rule:pause:record").wait(30)
        hosts.start("host.py", str(hosts.out), "emit:record").wait(30)
        time.sleep(0.5)
        assert len(started) == 1 and app.status()["record"].paused
        hosts.start("host.py", str(hosts.out), "rule:resume:record").wait(30)
        wait_for(lambda: len(started) == 2, 5, "the resume from another process reached the runner")
        hosts.start("host.py", str(hosts.out), "rule:block:record").wait(30)
        hosts.start("host.py", str(hosts.out), "emit:record").wait(30)
        time.sleep(0.5)
        assert len(started) == 2 and app.status()["record"].blocked == "blocked by a test"
        hosts.start("host.py", str(hosts.out), "rule:unblock:record").wait(30)
        wait_for(lambda: len(started) == 3, 5, "the unblock from another process reached the runner")
    finally:
        stop()
        thread.join(30)
        app.close()
    assert not thread.is_alive() and runner.processed == 3


def _cluster() -> list[str] | None:
    """The local cluster's pg_ctlcluster arguments (version, name), if this machine runs it."""
    etc = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") is None or not etc.is_dir():
        return None
    versions = sorted(p.name for p in etc.iterdir() if (p / "main").is_dir())
    return [versions[-1], "main"] if versions else None


def _pg_ctl(cluster: list[str], action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.filterwarnings("ignore::conveyor.UnknownWorkerWarning")  # the hosts define the worker
def test_a_database_restart_while_hosts_work_loses_no_message(hosts: Hosts) -> None:
    """Restart PostgreSQL for real under two working hosts: they log it, reconnect with backoff, and
    every message is handled; the server is restored whatever happens."""
    cluster = _cluster()
    if cluster is None:
        message = "this test restarts the local PostgreSQL with pg_ctlcluster, which this machine lacks"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with pg_exclusive(hosts.url):  # no other test session uses the server meanwhile
        app = conveyor.App(hosts.url)
        pings: list[Any] = []

        @app.worker("ping")
        def ping(event: Any) -> None:
            pings.append(event)

        # and an idle runner here that only LISTENs (its poll is 60 s): it must listen again after the restart
        _, stop, thread = _serve(app, poll=60.0)
        try:
            ids = app.emit_many([({"i": i}, "slow") for i in range(2500)])
            procs = [hosts.start("host.py", str(hosts.out), "drain-all:slow:4") for _ in range(2)]
            wait_for(lambda: len(hosts.lines("slow")) >= 200, 60, "the hosts are working")
            try:
                restarted = _pg_ctl(cluster, "restart")
                assert restarted.returncode == 0, restarted.stderr
                handled_at_restart = len(hosts.lines("slow"))
            finally:
                if _pg_ctl(cluster, "status").returncode != 0:
                    _pg_ctl(cluster, "start")
            logs = ""
            for proc in procs:
                _, err = proc.communicate(timeout=180)
                logs += err
                assert proc.returncode == 0, err[-3000:]
            handled = {mid for mid, *_ in hosts.lines("slow")}
            assert handled == set(ids), f"{len(set(ids) - handled)} messages never handled"
            assert handled_at_restart < len(ids)  # the restart really hit the work in the middle
            # the hosts said so: a failed turn ("store unavailable … retrying"), or, when the outage fell
            # between two store calls, the pool replacing the connections the restart closed
            signs = ("store unavailable", "discarding closed connection", "error connecting")
            assert any(sign in logs for sign in signs), logs[-3000:]
            assert app.messages() == [] and "slow" not in app.status()
            app.emit("after the restart", "ping")
            wait_for(lambda: pings == ["after the restart"], 15, "the idle runner heard an emit afterwards")
        finally:
            stop()
            thread.join(30)
            app.close()


def test_heartbeats_renew_only_claims_whose_answer_arrived(pg_url: str) -> None:
    """A claim that committed but whose answer never reached the runner (a connection lost at that
    instant) must not be kept alive by that runner's heartbeats: its lease runs out and it is rescued.
    Stand-in: one store object claims for runner "r"; another, that never saw the answer, beats for "r"."""
    seen, blind = open_store(pg_url), open_store(pg_url)
    assert seen is not blind
    try:
        seen.enqueue([NewMessage("w", b"1"), NewMessage("w", b"2")])
        (first,) = seen.claim("r", {"w": None}, 1, 0.6)
        (lost,) = blind.claim("r", {"w": None}, 1, 0.6)  # as if its answer had been lost
        blind.close()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            seen.heartbeat("r", ["w"], 0.6)
            time.sleep(0.1)
        assert seen.rescue() == 1  # the lost one, renewed by nobody
        running = {m.id for m in seen.messages("w", "running", 10)}
        queued = {m.id for m in seen.messages("w", "queued", 10)}
        assert running == {first.id} and queued == {lost.id}
    finally:
        seen.close()
