"""Rolling deploys and orchestrator shutdowns with real ``conveyor run`` processes, on both stores.

Version A defines workers x and y; version B defines x, y (with a changed handler) and z. Handlers
record (version, worker, message id, attempt) in a file. Messages are emitted throughout while A runs,
B starts beside it and A is stopped with SIGTERM; then a SIGTERM that the orchestrator follows with
SIGKILL before the handlers finish, whose leases another runner recovers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import conveyor

sys.path.insert(0, str(Path(__file__).parent / "apps"))
from deploy_harness import Served, python_path, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::conveyor.UnknownWorkerWarning")

LEASE = 2.0
VERSIONED_APP = """
import os
import time

import conveyor

VERSION = {version!r}
app = conveyor.App(lease={lease})


def record(worker, msg):
    line = f"{{VERSION}} {{worker}} {{msg.id}} {{msg.attempt}}\\n".encode()
    fd = os.open(os.environ["DEPLOY_RECORD"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line)  # one write of a short line to an O_APPEND file: never interleaved
    finally:
        os.close(fd)


@app.worker("x")
def x(event, msg):
    time.sleep(0.02)
    record("x", msg)


@app.worker("y")
async def y(event, msg):  # version B changed this handler
    import asyncio

    await asyncio.sleep(0.02 if VERSION == "A" else 0.01)
    record("y", msg)


if VERSION == "B":

    @app.worker("z")
    def z(event, msg):
        record("z", msg)


@app.worker("slow")
def slow(event, msg):
    if VERSION == "A":
        record("slow-start", msg)
        time.sleep(120)  # far past what the orchestrator allows
    record("slow", msg)
"""


class Deploy:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.dir = tmp_path
        self.url = url
        self.record = tmp_path / "record.txt"
        self.record.touch()
        self.app = conveyor.App(url, lease=LEASE)  # emits and reads; defines no worker
        self.served: list[Served] = []
        for version in ("A", "B"):
            folder = tmp_path / version
            folder.mkdir()
            (folder / "vapp.py").write_text(VERSIONED_APP.format(version=version, lease=LEASE))

    def start(self, version: str, *args: str) -> Served:
        folder = self.dir / version
        run = Served(
            self.dir / f"{version}.log",
            "run", "vapp:app", "--store", self.url, "--no-web", "--processes", "2", *args,
            env={"PYTHONPATH": python_path(folder), "DEPLOY_RECORD": str(self.record)},
            cwd=folder,
        )  # fmt: skip
        self.served.append(run)
        return run

    def records(self) -> list[tuple[str, str, int, int]]:
        out = []
        for line in self.record.read_text().splitlines():
            version, worker, message_id, attempt = line.split()
            out.append((version, worker, int(message_id), int(attempt)))
        return out

    def close(self) -> None:
        for run in self.served:
            run.close()
        self.app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def deploy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deploy]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/c.db"
    d = Deploy(tmp_path, str(url))
    try:
        yield d
    finally:
        d.close()


class Emitter(threading.Thread):
    """Emits to x, y and z in turn, every few milliseconds, until stopped: id -> (worker, when)."""

    def __init__(self, app: conveyor.App) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.sent: dict[int, tuple[str, float]] = {}
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.halt.is_set():
                worker = "xyz"[n % 3]
                message_id = self.app.emit({"n": n}, worker)
                self.sent[message_id] = (worker, time.monotonic())
                n += 1
                time.sleep(0.01)
        except BaseException as error:
            self.error = error

    def stop(self) -> dict[int, tuple[str, float]]:
        self.halt.set()
        self.join(10)
        assert self.error is None, self.error
        return dict(self.sent)


def test_a_rolling_deploy_runs_every_message_once_on_a_version_that_defines_its_worker(
    deploy: Deploy,
) -> None:
    a = deploy.start("A", "--grace", "10")
    wait_for(lambda: len(a.children()) == 2, 15, "version A's runners")
    emitter = Emitter(deploy.app)
    emitter.start()
    wait_for(lambda: len({w for _v, w, _i, _a in deploy.records()}) == 2, 15, "A handling x and y")
    time.sleep(0.5)
    z = deploy.app.status()["z"]  # only A runs: z waits as an unknown worker
    assert z.unknown and z.queued > 0
    assert all(worker != "z" for _v, worker, _i, _a in deploy.records())

    b_started = time.monotonic()
    b = deploy.start("B", "--grace", "10")
    wait_for(lambda: any(v == "B" for v, *_ in deploy.records()), 15, "version B handling messages")
    stopping = time.monotonic()
    a.signal(signal.SIGTERM)  # the old version goes: in-flight messages finish within its grace
    assert a.wait(15) == 0
    a_stopped = time.monotonic()
    assert a_stopped - stopping < 10
    time.sleep(1.0)  # emits go on with B alone
    sent = emitter.stop()
    wait_for(lambda: len(deploy.records()) >= len(sent), 20, "every message handled")
    b.signal(signal.SIGTERM)
    assert b.wait(15) == 0

    records = deploy.records()
    handled = Counter(message_id for _v, _w, message_id, _a in records)
    assert set(handled) == set(sent), "a message was lost, or one nobody emitted ran"
    assert [i for i, n in handled.items() if n > 1] == []  # exactly once
    by_id = {message_id: (version, worker, attempt) for version, worker, message_id, attempt in records}
    for message_id, (worker, emitted_at) in sent.items():
        version, ran_as, attempt = by_id[message_id]
        assert ran_as == worker and attempt == 1
        assert version == "B" or worker != "z"  # only B defines z
        if emitted_at > a_stopped:
            assert version == "B"  # y's changed handler (and x's) after A left
    early_z = [i for i, (w, t) in sent.items() if w == "z" and t < b_started]
    assert early_z and all(by_id[i][0] == "B" for i in early_z)  # held while unknown, then run by B
    assert {v for v, w, *_ in records if w == "y"} == {"A", "B"}
    assert deploy.app.messages() == []


def test_sigterm_then_sigkill_loses_nothing_and_others_recover_the_leases(deploy: Deploy) -> None:
    a = deploy.start("A", "--grace", "60")  # longer than the orchestrator waits
    wait_for(lambda: len(a.children()) == 2, 15, "version A's runners")
    ids = deploy.app.emit_many([({"n": n}, "slow") for n in range(6)])
    wait_for(lambda: len(deploy.records()) == 6, 15, "A running every slow message")
    b = deploy.start("B", "--grace", "5")
    wait_for(lambda: len(b.children()) == 2, 15, "version B's runners")
    pids = [a.pid, *a.children()]
    a.signal(signal.SIGTERM)
    time.sleep(1.0)  # terminationGracePeriodSeconds, shorter than the handlers
    for pid in pids:  # the kubelet kills every process of the container (an idle runner is gone already)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    a.wait(10)
    wait_for(lambda: len([r for r in deploy.records() if r[1] == "slow"]) == 6, 4 * LEASE + 10, "recovered")
    recovered = time.monotonic() - killed
    # A lease runs out at most LEASE after the last renewal; any runner rescues at least every LEASE.
    assert recovered < 2 * LEASE + 2.0, recovered
    finished = [r for r in deploy.records() if r[1] == "slow"]
    assert sorted(i for _v, _w, i, _a in finished) == sorted(ids)
    assert {(v, attempt) for v, _w, _i, attempt in finished} == {("B", 2)}  # the lost run counted
    b.signal(signal.SIGTERM)
    assert b.wait(15) == 0
    assert deploy.app.messages() == []
