"""Migrations sqlite 0009 and postgres 0007 add priorities to a store written by the previous version:
its messages stay, at priority 0, and run."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

import conveyor
from conveyor._stores._pg_url import _Queries
from conveyor._stores._sql import migrations


def _old_messages_run_behind_a_new_urgent_one(app: conveyor.App) -> None:
    assert [(m.event, m.priority) for m in app.messages("old")] == [({"n": 1}, 0)]
    seen: list[Any] = []

    @app.worker("old", concurrency=1)
    def handle(event: Any) -> None:
        seen.append(event)

    app.emit({"n": 2}, "old", priority=1)
    assert app.drain() == 2
    assert seen == [{"n": 2}, {"n": 1}]


def test_sqlite_0009_adds_priorities_to_a_version_8_database(tmp_path: Path) -> None:
    path = tmp_path / "v8.db"
    db = sqlite3.connect(path, isolation_level=None)
    for version, _, sql in migrations("sqlite"):
        if version > 8:
            break
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {version}")
        if version == 1:  # a message of an old database (0003 counts it)
            db.execute(
                "INSERT INTO messages (worker, event, enqueued_at, run_at) VALUES ('old', '{\"n\": 1}', 1, 1)"
            )
    db.close()
    app = conveyor.App(f"sqlite:///{path}")
    try:
        assert app.store.schema_version() == migrations("sqlite")[-1][0] >= 9  # type: ignore[attr-defined]
        _old_messages_run_behind_a_new_urgent_one(app)
    finally:
        app.close()


def test_postgres_0007_adds_priorities_to_a_version_6_schema(pg_url: str) -> None:
    queries = _Queries("v6")
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute(queries.create_schema)
        for number, name, sql in migrations("postgres"):
            if number > 6:
                break
            conn.execute(queries.fill(sql))
            conn.execute(queries.record_migration, (number, name))
            if number == 1:  # a message of an old database (0002 counts it)
                conn.execute(
                    "INSERT INTO v6.messages (worker, event, enqueued_at, run_at) "
                    "VALUES ('old', '{\"n\": 1}', 1, 1)"
                )
    app = conveyor.App(f"{pg_url}?schema=v6")
    try:
        assert app.store.schema_version() == migrations("postgres")[-1][0] >= 7  # type: ignore[attr-defined]
        _old_messages_run_behind_a_new_urgent_one(app)
    finally:
        app.close()
