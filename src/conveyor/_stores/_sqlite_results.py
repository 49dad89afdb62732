"""The SQLite store's results (migrations/0011_results.sql): outcomes kept with the settle that finishes
their message, read by waiters, pruned by runners, and announced to waiters in every process.

A settle that kept outcomes ends, after its commit, by rewriting the one byte of the ``<db>-results``
sidecar file: waiters watch that file (inotify, as runners watch the writer gate), so neither idle
runners nor waiters hear of each other's writes. An in-memory database rings its waiters in this
process directly.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from ._base import ResultRecord, ResultRow, Wakeups
from ._hints import HintWaiter
from ._sql import Queries

__all__ = ["LocalBell", "SQLiteResults"]


class LocalBell(HintWaiter):
    """Hints rung from any thread of this process (an in-memory database has no file to watch)."""

    def __init__(self) -> None:
        super().__init__()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rung_early = False

    async def wait(self, timeout: float) -> bool:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            if self._rung_early:
                self._hint()
        return await self._wait(timeout)

    def ring(self) -> None:
        loop = self._loop
        if loop is None:
            self._rung_early = True
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._hint)

    def close(self) -> None:
        self._loop = None


class SQLiteResults:
    """Result methods of ``SQLiteStore`` (a mixin: it uses the store's connection and write lock)."""

    _q: Queries
    _db: sqlite3.Connection
    _lock: threading.RLock
    _write: Callable[..., AbstractContextManager[sqlite3.Connection]]
    path: str

    _bells: weakref.WeakSet[LocalBell]
    _results_fd: int = -1

    def _keep_results(self, db: sqlite3.Connection, records: Sequence[ResultRecord], now: float) -> None:
        """Inside a settle's transaction."""
        db.executemany(
            self._q.insert_result,
            [
                {
                    "id": r.message_id,
                    "worker": r.worker,
                    "outcome": r.outcome,
                    "value": r.value,
                    "is_repr": r.is_repr,
                    "error": r.error,
                    "now": now,
                    "keep": r.keep,
                }
                for r in records
            ],
        )

    def _ring_results(self) -> None:
        """After a commit that kept outcomes: wake the waiters of every process."""
        if self._memory():
            for bell in list(self._bells_()):
                bell.ring()
            return
        fd = self._results_file()
        if fd >= 0:
            os.pwrite(fd, b"\1", 0)

    def results(self, message_ids: Sequence[int]) -> list[ResultRow]:
        params = {"ids": orjson.dumps(list(message_ids)).decode(), "now": time.time()}
        with self._lock:
            rows = self._db.execute(self._q.results, params).fetchall()
        return [_row(r) for r in rows]

    def prune_results(self, limit: int) -> int:
        with self._write(announce=False) as db:
            return int(db.execute(self._q.prune_results, {"now": time.time(), "limit": limit}).rowcount)

    def result_wakeups(self) -> Wakeups:
        if self._memory():
            bell = LocalBell()
            self._bells_().add(bell)
            return bell
        from ._sqlite_wakeups import sqlite_wakeups

        self._results_file()
        return sqlite_wakeups(self.path, None, self._results_path())

    def _close_results(self) -> None:
        if self._results_fd >= 0:
            os.close(self._results_fd)
            self._results_fd = -1

    # -- helpers ---------------------------------------------------------------------------------
    def _memory(self) -> bool:
        return self.path == ":memory:" or self.path.startswith("file::memory:")

    def _bells_(self) -> weakref.WeakSet[LocalBell]:
        if not hasattr(self, "_bells"):
            self._bells = weakref.WeakSet()
        return self._bells

    def _results_path(self) -> str:
        return f"{self.path}-results"

    def _results_file(self) -> int:
        """The sidecar file waiters watch, opened (and created) on first use; -1 where it cannot be."""
        if self._results_fd < 0:
            try:
                self._results_fd = os.open(self._results_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                self._results_fd = -1
        return self._results_fd


def _row(r: Any) -> ResultRow:
    return ResultRow(
        int(r[0]), r[1], r[2], r[3], r[4], bool(r[5]), r[6], None if r[7] is None else float(r[7])
    )
