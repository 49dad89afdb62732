"""Helpers the tests import by name (``from _shared import in_ci``). They live here, not in conftest.py:
tests/django has a conftest.py of its own, and ``from conftest import`` would find whichever was imported
last."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["PG_LOCK", "_PG_LOCKS", "in_ci", "pg_exclusive"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# A test that restarts the server (test_postgres_hosts.py) must not pull it from under the PostgreSQL
# tests of another test session running at the same time on this machine: every test holds a shared
# lock on PG_LOCK while it uses the server, and the restart takes it exclusively (pg_exclusive).
PG_LOCK = Path(tempfile.gettempdir()) / "conveyor-tests-postgres.lock"
_PG_LOCKS: dict[str, IO[str]] = {}


@contextmanager
def pg_exclusive(url: str, wait: float = 120.0) -> Iterator[bool]:
    """Inside, no other test (of any session) uses the server: say whether that was had within ``wait``
    seconds (if not, the caller goes on regardless, with a warning)."""
    lock = _PG_LOCKS[url]
    deadline = time.monotonic() + wait
    had = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            had = True
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                warnings.warn("other test sessions kept using PostgreSQL; restarting it anyway", stacklevel=3)
                break
            time.sleep(0.05)
    try:
        yield had
    finally:
        fcntl.flock(lock, fcntl.LOCK_SH)
