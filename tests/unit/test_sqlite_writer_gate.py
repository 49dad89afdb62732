"""SQLite writers queue on a kernel lock of ``<db>-writer`` before taking SQLite's write lock, so the
next writer wakes the moment the lock is free instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from pathlib import Path

import conveyor


def test_writers_wait_on_the_gate_and_go_as_soon_as_it_opens(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    app = conveyor.App(f"sqlite:///{path}")
    app.worker("w")(lambda event: None)
    app.emit({"i": 0}, "w")
    gate = path.with_name("q.db-writer")
    assert gate.exists()
    reader = conveyor.App(f"sqlite:///{path}")
    reader.status()  # opened (and its migration check written) before the gate is taken
    fd = os.open(gate, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the gate
    done = threading.Event()
    ids: list[int] = []

    def emit() -> None:
        ids.append(app.emit({"i": 1}, "w"))
        done.set()

    thread = threading.Thread(target=emit)
    thread.start()
    try:
        assert not done.wait(0.3), "the emit did not wait for the writer holding the gate"
        assert len(reader.messages("w")) == 1  # another connection reads meanwhile
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert done.wait(5), "the emit did not go once the gate opened"
    thread.join()
    assert [m.id for m in app.messages("w")][-1] == ids[0]
    reader.close()
    app.close()


def test_an_in_memory_store_has_no_gate_file(tmp_path: Path) -> None:
    app = conveyor.App("sqlite:///:memory:")
    app.worker("w")(lambda event: None)
    app.emit({}, "w")
    assert app.drain() == 1
    assert list(tmp_path.iterdir()) == []
    app.close()


def test_idle_runners_hear_writes_that_matter_and_not_bookkeeping(tmp_path: Path) -> None:
    """Runners watch the gate file, which writers rewrite after committing an emit or a rule change
    (never before the commit is visible), and not after a runner's heartbeat, claim or ack."""
    path = tmp_path / "q.db"
    writer = conveyor.App(f"sqlite:///{path}")
    writer.worker("w")(lambda event: None)
    writer.status()
    listener = conveyor.App(f"sqlite:///{path}")
    listener.status()

    async def main() -> None:
        wakeups = listener.store.wakeups()
        try:
            assert not await wakeups.wait(0.05)
            writer.emit({"i": 1}, "w")
            assert await wakeups.wait(2.0), "no hint after an emit elsewhere"
            writer.store.heartbeat("r1", ["w"], 30.0)
            writer.store.claim("r1", {"w": None}, 10, 30.0)
            writer.store.rescue()  # nothing to rescue: no row changed
            assert not await wakeups.wait(0.3), "a heartbeat, a claim or an idle rescue woke a runner"
            writer.pause("w")
            assert await wakeups.wait(2.0), "no hint after a rule change elsewhere"
        finally:
            wakeups.close()

    asyncio.run(main())
    listener.close()
    writer.close()


def test_without_a_gate_file_runners_watch_the_wal(tmp_path: Path) -> None:
    """A database in a directory where the gate file cannot be made: hints come from -wal writes."""
    from conveyor._stores._sqlite_wakeups import InotifyWakeups

    path = tmp_path / "q.db"
    writer = conveyor.App(f"sqlite:///{path}")
    writer.worker("w")(lambda event: None)
    writer.status()

    async def main() -> None:
        wakeups = InotifyWakeups(str(path), changed=None, gate=None)
        try:
            assert not await wakeups.wait(0.05)
            writer.emit({"i": 1}, "w")
            assert await wakeups.wait(2.0), "no hint from the -wal file"
        finally:
            wakeups.close()

    asyncio.run(main())
    writer.close()


def test_processes_opening_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Processes that open one new file at the same instant all get a working store. Turning the file
    into WAL is done under the writer gate: without it, an opener racing another's conversion got
    "database is locked" from ``PRAGMA journal_mode = WAL`` at once (9 of 240 such opens failed with
    the old code, 0 of 240 with the gate; this test's 48 opens caught the old code most times)."""
    import subprocess
    import sys
    import time

    code = (
        "import os, sys, time, conveyor\n"
        "open(sys.argv[2] + '.ready.' + str(os.getpid()), 'w').close()\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.0005)\n"
        "app = conveyor.App(sys.argv[1]); app.status(); app.close()\n"
    )
    for round_ in range(12):
        folder = tmp_path / str(round_)
        folder.mkdir()
        go = folder / "go"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", code, f"sqlite:///{folder / 'new.db'}", str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        deadline = time.monotonic() + 30
        while len(list(folder.glob("go.ready.*"))) < len(openers) and time.monotonic() < deadline:
            time.sleep(0.005)
        go.touch()  # all four open now
        for p in openers:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
