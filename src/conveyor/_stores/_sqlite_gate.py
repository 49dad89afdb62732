"""The writer gate of a SQLite database file: Conveyor's writers take turns on a kernel lock."""

from __future__ import annotations

import fcntl
import os
from contextlib import suppress

__all__ = ["WriterGate"]


class WriterGate:
    """Writers of one database file queue on an exclusive ``flock`` of a sidecar file before they take
    SQLite's write lock. SQLite itself makes a blocked writer sleep and retry (1, 2, 5 ms… with its
    busy handler, or our shorter steps), so under contention a process that just committed tends to
    take the lock again before the sleeper wakes, and the other process mostly waits. A kernel lock
    wakes the next writer the moment the lock is released, in turn: several runner processes share the
    write lock fairly and none idles. Processes that do not use the gate (the ``sqlite3`` shell) are
    still handled by SQLite's locking; the gate only orders Conveyor's own writers.

    In-memory databases need no gate (one connection)."""

    __slots__ = ("_created", "_fd", "path")

    def __init__(self, path: str) -> None:
        self._fd = -1
        self._created = False
        self.path: str | None = None
        if path == ":memory:" or path.startswith("file::memory:"):
            return
        writer = f"{path}-writer"
        try:
            try:
                self._fd = os.open(writer, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                self._created = True
            except FileExistsError:
                self._fd = os.open(writer, os.O_RDWR | os.O_CLOEXEC)
            self.path = writer
        except OSError:
            self._fd = -1  # a read-only directory: SQLite's locking alone

    def announce(self) -> None:
        """After a commit that may make messages due, while the gate is still held: rewrite the gate
        file's one byte. Idle runners watch this file (inotify) rather than the ``-wal`` file, whose
        writes begin before the commit is visible; this one comes after it, and only from writes that
        matter to them (not every runner's claims and acks)."""
        if self._fd >= 0:
            os.pwrite(self._fd, b"\1", 0)

    def try_enter(self) -> bool:
        """Take the gate if no other writer holds it; False at once otherwise."""
        if self._fd >= 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        return True

    def __enter__(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self, discard: bool = False) -> None:
        """``discard``: the store failed to open; remove the file too if this gate created it."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            if discard and self._created and self.path is not None:
                with suppress(FileNotFoundError):
                    os.unlink(self.path)
