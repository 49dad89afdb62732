"""Migrations sqlite 0014 and postgres 0012 add the minutes' totals to a store written by the previous
version: the stats rows it kept are added up into totals, so ``app.stats()`` shows the same totals."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg

import conveyor
from conveyor._histogram import bucket
from conveyor._stores._pg_url import _Queries
from conveyor._stores._sql import migrations

INSERT = "INSERT INTO {}stats (minute, worker, processed, failed, wait, run) VALUES (%s, %s, %s, %s, %s, %s)"


def _rows() -> list[tuple[int, str, int, int, str, str]]:
    minute = int(time.time()) // 60 * 60 - 60
    fast, slow = bucket(0.002), bucket(0.5)
    return [
        (minute, "a", 9, 0, f'{{"{fast}": 9}}', f'{{"{fast}": 9}}'),
        (minute, "b", 1, 1, f'{{"{slow}": 1}}', f'{{"{slow}": 1}}'),
        (minute - 60, "a", 2, 0, f'{{"{fast}": 2}}', f'{{"{fast}": 2}}'),
    ]


def _totals_add_up(app: conveyor.App) -> None:
    before, last = [b for b in app.stats(minutes=5) if b.worker is None]
    assert [(b.processed, b.failed) for b in (before, last)] == [(2, 0), (10, 1)]
    assert last.wait_p50 is not None and last.wait_p50 < 0.01
    assert last.wait_p95 is not None and last.wait_p95 > 0.4


def test_sqlite_0014_adds_up_a_version_13_databases_stats(tmp_path: Path) -> None:
    path = tmp_path / "v13.db"
    db = sqlite3.connect(path, isolation_level=None)
    for version, _, sql in migrations("sqlite"):
        if version > 13:
            break
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {version}")
    db.executemany(INSERT.format("").replace("%s", "?"), _rows())
    db.close()
    app = conveyor.App(f"sqlite:///{path}")
    try:
        assert app.store.schema_version() == migrations("sqlite")[-1][0] >= 14  # type: ignore[attr-defined]
        _totals_add_up(app)
    finally:
        app.close()


def test_postgres_0012_adds_up_a_version_11_schemas_stats(pg_url: str) -> None:
    queries = _Queries("v11")
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute(queries.create_schema)
        for number, name, sql in migrations("postgres"):
            if number > 11:
                break
            conn.execute(queries.fill(sql))
            conn.execute(queries.record_migration, (number, name))
        for row in _rows():
            conn.execute(INSERT.format("v11."), row)  # type: ignore[arg-type]
    app = conveyor.App(f"{pg_url}?schema=v11")
    try:
        assert app.store.schema_version() == migrations("postgres")[-1][0] >= 12  # type: ignore[attr-defined]
        _totals_add_up(app)
    finally:
        app.close()
