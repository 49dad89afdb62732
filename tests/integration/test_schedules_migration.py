"""Migrations sqlite 0007 and postgres 0005 add the schedule tables to a store written by the previous
version; its messages stay, and its runners' schedules tick."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import psycopg

import conveyor
from conveyor._runtime._ticker import Ticker
from conveyor._stores._pg_url import _Queries
from conveyor._stores._sql import migrations


def _ticks_once(app: conveyor.App) -> None:
    app.schedule("beat", "w", every=10)
    ticker = Ticker(app.registry.schedules, app.store, "r1")
    ticker.turn(time.time())
    (state,) = app.store.schedule_states()
    tick = (math.floor(state.since / 10) + 1) * 10
    ticker.turn(tick + 0.01)
    assert [m.key for m in app.messages("w")] == [f"schedule:beat:{int(tick)}"]
    assert app.schedules()[0].last_at is not None


def test_sqlite_0007_adds_schedules_to_a_version_6_database(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    db = sqlite3.connect(path, isolation_level=None)
    for version, _, sql in migrations("sqlite"):
        if version > 6:
            break
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO messages (worker, event, enqueued_at, run_at) VALUES ('old', '{\"n\": 1}', 1, 1)")
    db.close()
    app = conveyor.App(f"sqlite:///{path}")
    try:
        assert app.store.schema_version() == migrations("sqlite")[-1][0] >= 7  # type: ignore[attr-defined]
        assert [m.event for m in app.messages("old")] == [{"n": 1}]
        _ticks_once(app)
    finally:
        app.close()


def test_postgres_0005_adds_schedules_to_a_version_4_schema(pg_url: str) -> None:
    queries = _Queries("v4")
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute(queries.create_schema)
        for number, name, sql in migrations("postgres"):
            if number > 4:
                break
            conn.execute(queries.fill(sql))
            conn.execute(queries.record_migration, (number, name))
            if number == 1:  # a message of an old database (0002 counts it)
                conn.execute(
                    "INSERT INTO v4.messages (worker, event, enqueued_at, run_at) "
                    "VALUES ('old', '{\"n\": 1}', 1, 1)"
                )
    app = conveyor.App(f"{pg_url}?schema=v4")
    try:
        assert app.store.schema_version() == migrations("postgres")[-1][0] >= 5  # type: ignore[attr-defined]
        assert [m.event for m in app.messages("old")] == [{"n": 1}]
        _ticks_once(app)
    finally:
        app.close()
