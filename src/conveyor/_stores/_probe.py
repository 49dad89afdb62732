"""A read-only look at a store for health checks: can it be reached, is its schema the one this
Conveyor expects, and which runners are live. Unlike opening a store it never creates, migrates or
writes anything, and it opens one short-lived connection (PostgreSQL) or a read of the file (SQLite).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from .._errors import StoreNotFound
from ._base import RUNNER_TTL
from ._budget import is_postgres, with_param
from ._sql import Queries, migrations

__all__ = ["LiveRunner", "Probe", "expected_version", "probe", "schema_problem"]


@dataclass(frozen=True, slots=True)
class LiveRunner:
    id: str
    """host:pid:tag"""
    seen: float
    """Seconds since its last heartbeat."""


@dataclass(frozen=True, slots=True)
class Probe:
    version: int
    expected: int
    runners: list[LiveRunner] = field(default_factory=list)

    @property
    def schema_current(self) -> bool:
        return self.version == self.expected


def expected_version(url: str) -> int:
    """The schema version this Conveyor's migrations reach for the store ``url`` names."""
    return migrations("postgres" if is_postgres(url) else "sqlite")[-1][0]


def schema_problem(version: int, expected: int) -> str | None:
    """Why a schema at ``version`` is not current (None: it is)."""
    if version == expected:
        return None
    if version < expected:
        return (
            f"the store's schema is at version {version}, this Conveyor needs {expected} "
            "(a runner or `conveyor run` of this version migrates it when it starts)"
        )
    return (
        f"the store's schema is at version {version}, newer than this Conveyor knows ({expected}): "
        "a newer version migrated it; deploy that version here"
    )


def probe(url: str, ttl: float = RUNNER_TTL, timeout: float = 5.0) -> Probe:
    """Look at the store ``url``: its schema version and the runners seen within ``ttl`` seconds.
    Raises ``StoreNotFound`` when there is no store there, and the driver's error when it cannot be
    reached."""
    expected = expected_version(url)
    if is_postgres(url):
        return _probe_postgres(url, ttl, timeout, expected)
    return _probe_sqlite(url, ttl, timeout, expected)


def _probe_postgres(url: str, ttl: float, timeout: float, expected: int) -> Probe:
    import psycopg

    from ._pg_url import _Queries, parse_url

    conninfo, schema, _pool = parse_url(url)
    conninfo = with_param(conninfo, "fallback_application_name", "conveyor-health", keep=True)
    q = _Queries(schema)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        row = conn.execute(q.schema_exists, (schema,)).fetchone()
        if not row or not row[0]:
            raise StoreNotFound(f"no Conveyor store in schema {schema!r}")
        version_row = conn.execute(q.schema_version).fetchone()
        rows = conn.execute(q.health_runners, {"ttl": float(ttl)}).fetchall()
    version = int(version_row[0]) if version_row else 0
    return Probe(version, expected, [LiveRunner(str(i), max(0.0, float(s))) for i, s in rows])


def _probe_sqlite(url: str, ttl: float, timeout: float, expected: int) -> Probe:
    path = unquote(urlsplit(url).path)
    path = path[1:] if path.startswith("/") else path
    if not path or path == ":memory:":
        raise ValueError(f"{url}: an in-memory store has no runners another process could look at")
    if not os.path.exists(path):
        raise StoreNotFound(f"no store file {path}")
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout, isolation_level=None)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        now = time.time()
        rows = (
            db.execute(Queries("sqlite").health_runners, {"since": now - ttl}).fetchall() if version else []
        )
    finally:
        db.close()
    return Probe(version, expected, [LiveRunner(str(i), max(0.0, now - float(s))) for i, s in rows])
