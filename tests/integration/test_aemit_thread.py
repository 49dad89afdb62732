"""``aemit`` writes on the app's emit thread: a store write that waits does not stop the event loop; the
thread survives cancelled callers and ``app.close()``."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from pathlib import Path

import conveyor


def _app(tmp_path: Path) -> conveyor.App:
    app = conveyor.App(f"sqlite:///{tmp_path / 'c.db'}")

    @app.worker("w")
    def handle(event: object) -> None:
        pass

    app.store  # noqa: B018 - create and migrate the file now
    return app


def test_a_write_held_by_a_lock_leaves_the_loop_running(tmp_path: Path) -> None:
    app = _app(tmp_path)
    other = sqlite3.connect(tmp_path / "c.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the database

    async def go() -> tuple[int, int, bool]:
        emitting = asyncio.create_task(app.aemit({"n": 1}, "w"))
        ticks = 0
        for _ in range(30):  # 0.3 s of ticks while the write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        waited = not emitting.done()
        other.execute("COMMIT")
        return await asyncio.wait_for(emitting, 30), ticks, waited

    try:
        message_id, ticks, waited = asyncio.run(go())
    finally:
        other.close()
    assert waited and ticks == 30
    assert [m.id for m in app.messages()] == [message_id]
    app.close()


def test_a_cancelled_aemit_leaves_the_thread_serving(tmp_path: Path) -> None:
    app = _app(tmp_path)

    async def go() -> int:
        first = asyncio.create_task(app.aemit(1, "w"))
        await asyncio.sleep(0)
        first.cancel()  # the write may or may not have happened; the caller no longer waits
        await asyncio.gather(first, return_exceptions=True)
        return await app.aemit(2, "w")

    second = asyncio.run(go())
    assert [m.event for m in app.messages()][-1] == 2
    assert app.messages()[-1].id == second
    app.close()


def test_close_ends_the_thread_and_the_app_emits_again(tmp_path: Path) -> None:
    def emit_threads() -> int:
        return sum(t.name == "conveyor-aemit" for t in threading.enumerate())

    app = _app(tmp_path)
    before = emit_threads()
    first = asyncio.run(app.aemit(1, "w"))  # written on the loop (the store was free): no thread yet
    assert emit_threads() == before
    asyncio.run(app.aemit(1, "w", key="k"))
    assert emit_threads() == before + 1  # one thread per app, started by the first write it takes
    asyncio.run(app.aemit(1, "w", key="k2"))
    assert emit_threads() == before + 1
    app.close()
    assert emit_threads() == before
    second = asyncio.run(app.aemit(2, "w"))
    assert second > first
    assert [m.event for m in app.messages()] == [1, 1, 1, 2]
    app.close()


def test_a_writer_gate_held_elsewhere_sends_the_write_to_the_thread(tmp_path: Path) -> None:
    """Another Conveyor process holds the writer gate: ``aemit`` must not wait for it on the loop."""
    app = _app(tmp_path)
    gate = os.open(tmp_path / "c.db-writer", os.O_RDWR)
    fcntl.flock(gate, fcntl.LOCK_EX)  # a separate open file: excludes this process's store like another's

    async def go() -> tuple[int, int, bool]:
        emitting = asyncio.create_task(app.aemit({"n": 1}, "w"))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        waited = not emitting.done()
        fcntl.flock(gate, fcntl.LOCK_UN)
        return await asyncio.wait_for(emitting, 30), ticks, waited

    try:
        message_id, ticks, waited = asyncio.run(go())
    finally:
        os.close(gate)
    assert waited and ticks == 20
    assert [m.id for m in app.messages()] == [message_id]
    app.close()


def test_writes_on_the_loop_leave_the_wal_checkpointed(tmp_path: Path) -> None:
    """Writes made on the loop skip the WAL checkpoint (it syncs the disk); every so often one goes through
    the thread, whose commit checkpoints, so the WAL stays near SQLite's 1,000-page mark (1 KiB pages)."""
    app = _app(tmp_path)

    async def go() -> None:
        for i in range(4000):  # ~4 pages each: about 16 MB of WAL if nothing checkpointed
            await app.aemit({"i": i}, "w")

    asyncio.run(go())
    assert app.status()["w"].queued == 4000
    assert (tmp_path / "c.db-wal").stat().st_size < 3 * 1024 * 1024
    app.close()
