"""Change hints for an SQLite database without busy polling.

On Linux the ``<db>-writer`` gate file is watched with inotify (through a few ctypes calls). Every
commit that may make messages due (an emit, a rule change, a release) ends by rewriting its one byte
(``WriterGate.announce``), the kernel makes our descriptor readable, and the event loop
(``add_reader``) wakes the runner at once. Nothing runs while nothing is announced: runners' own claims
and acks do not touch that file. Where there is no gate file (a read-only directory), the database's
directory is watched for writes of the ``-wal`` file instead: those begin before the commit is
visible, so an event that shows no change yet is looked at again a moment later.

Elsewhere (or when inotify is unavailable) ``PRAGMA data_version`` is read on a private connection a
few times a second: cheap, but a poll, so it is only the fallback.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import sqlite3
import struct
import sys
from collections.abc import Callable

from ._hints import HintWaiter

__all__ = ["DataVersionWakeups", "InotifyWakeups", "SleepWakeups", "sqlite_wakeups"]

_IN_MODIFY = 0x00000002
_IN_CREATE = 0x00000100
_IN_MOVED_TO = 0x00000080
_IN_Q_OVERFLOW = 0x00004000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_HEADER = struct.Struct("iIII")
_RECHECK = (0.001, 0.01, 0.1)
"""Seconds after an unchanged-looking event at which ``data_version`` is read again."""


class InotifyWakeups(HintWaiter):
    """Hints from inotify: rewrites of the gate file, or (without one) writes of the database and its
    ``-wal`` in its directory."""

    def __init__(self, path: str, changed: Callable[[], bool] | None = None, gate: str | None = None) -> None:
        super().__init__()
        self._changed = changed
        self._rechecking = False
        libc = _libc()
        if libc is None:
            raise OSError("no libc with inotify")
        directory, base = os.path.split(os.path.abspath(path))
        if gate is not None and os.path.exists(gate):
            # The gate file itself: only its own rewrites arrive (events on a watched file carry no
            # name), not every WAL write of busy runners, and they come after the commit.
            target, mask = gate, _IN_MODIFY
            self._names = {b""}
            self._after_commit = True
        else:
            target, mask = directory, _IN_MODIFY | _IN_CREATE | _IN_MOVED_TO
            self._names = {base.encode(), (base + "-wal").encode()}
            self._after_commit = False
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        watch = libc.inotify_add_watch(fd, os.fsencode(target), mask)
        if watch < 0:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, f"inotify_add_watch({target}) failed")
        self._fd = fd
        self._loop: asyncio.AbstractEventLoop | None = None

    async def wait(self, timeout: float) -> bool:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._fd, self._readable)
        return await self._wait(timeout)

    def _readable(self) -> None:
        relevant = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                relevant = True  # something is wrong with the watch: look at the store anyway
                break
            if not data:
                break
            relevant = relevant or self._relevant(data)
        if not relevant:
            return
        if self._after_commit or self._changed is None or self._changed():
            # After-commit events come only from writes that matter to runners (emits, rule changes,
            # releases), and an emit of this process's own handlers is worth a look too; asking
            # data_version would cost a read transaction (~40 µs) that the claim pays again.
            self._hint()
        elif self._loop is not None and not self._rechecking:
            # Unchanged for this connection: most likely our own commit, but the event may also have
            # come from another writer's WAL write a moment before its commit is visible. Look again.
            self._rechecking = True
            self._loop.call_later(_RECHECK[0], self._recheck, 1)

    def _recheck(self, step: int) -> None:
        assert self._changed is not None
        if self._fd < 0:
            return
        if self._changed():
            self._rechecking = False
            self._hint()
        elif step < len(_RECHECK) and self._loop is not None:
            self._loop.call_later(_RECHECK[step] - _RECHECK[step - 1], self._recheck, step + 1)
        else:
            self._rechecking = False

    def _relevant(self, data: bytes) -> bool:
        offset = 0
        size = _HEADER.size
        while offset + size <= len(data):
            _wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
            name = data[offset + size : offset + size + length].rstrip(b"\0")
            offset += size + length
            if mask & _IN_Q_OVERFLOW or name in self._names:
                return True
        return False

    def close(self) -> None:
        if self._fd < 0:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1


class DataVersionWakeups(HintWaiter):
    """The portable fallback: ``PRAGMA data_version`` on a private connection, every ``interval`` s."""

    def __init__(self, path: str, interval: float = 0.05) -> None:
        super().__init__()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._interval = interval
        self._version = self._read()

    def _read(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    async def wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            version = self._read()
            if version != self._version:
                self._version = version
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(self._interval, left))

    def close(self) -> None:
        self._db.close()


class SleepWakeups:
    """No hints at all (an in-memory database has no other process to hear from)."""

    async def wait(self, timeout: float) -> bool:
        await asyncio.sleep(timeout)
        return False

    def close(self) -> None:
        pass


def sqlite_wakeups(
    path: str, changed: Callable[[], bool] | None = None, gate: str | None = None
) -> InotifyWakeups | DataVersionWakeups | SleepWakeups:
    """``changed``: asked on each file event whether someone else wrote (filters out our own commits).
    ``gate``: the file that writers rewrite after commits that matter to runners (None: watch ``-wal``)."""
    if path == ":memory:" or path.startswith("file::memory:"):
        return SleepWakeups()
    if sys.platform.startswith("linux") and not os.environ.get("CONVEYOR_NO_INOTIFY"):
        try:
            return InotifyWakeups(path, changed, gate)
        except OSError:
            pass
    return DataVersionWakeups(path)


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL | None:
    global _LIBC
    if _LIBC is None:
        try:
            # The process's own symbols include libc's; ctypes.util.find_library would run
            # ``ldconfig -p`` in a subprocess, in every runner process at start-up.
            lib = ctypes.CDLL(None, use_errno=True)
            lib.inotify_init1.argtypes = [ctypes.c_int]
            lib.inotify_init1.restype = ctypes.c_int
            lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
            lib.inotify_add_watch.restype = ctypes.c_int
        except (OSError, AttributeError):
            return None
        _LIBC = lib
    return _LIBC
