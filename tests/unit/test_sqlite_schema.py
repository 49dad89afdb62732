"""The SQLite store's versioned schema: older databases migrate, newer ones are refused clearly."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import orjson
import pytest

import conveyor
from conveyor._stores._sql import Queries, migrations
from conveyor._stores._sqlite import SQLiteStore, StoreVersionError


def test_new_database_is_at_the_latest_version(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "a.db"))
    assert store.schema_version() == migrations("sqlite")[-1][0]
    mode = sqlite3.connect(tmp_path / "a.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_older_database_is_migrated_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    version, _, sql = migrations("sqlite")[0]
    db.executescript(sql)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute(
        "INSERT INTO messages (worker, event, enqueued_at, run_at) VALUES ('w', '{\"old\": true}', 1, 1)"
    )
    db.commit()
    db.close()
    app = conveyor.App(f"sqlite:///{path}")
    assert [m.event for m in app.messages()] == [{"old": True}]
    assert app.status()["w"].queued == 1  # counted by the migrations
    assert app.store.schema_version() == migrations("sqlite")[-1][0] > version  # type: ignore[attr-defined]
    app.close()


def test_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 999")
    db.close()
    with pytest.raises(StoreVersionError, match="schema version 999, newer than this Conveyor knows"):
        SQLiteStore(str(path))


def test_every_query_file_parses(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "q.db"))
    db = sqlite3.connect(tmp_path / "q.db")
    queries = Queries("sqlite")
    for name in sorted(queries.names()):
        sql = getattr(queries, name)
        named = set(re.findall(r"(?<!:):([a-z_]+)", sql))
        params: object = dict.fromkeys(named) if named else [None] * sql.count("?")
        db.execute("EXPLAIN " + sql, params)  # type: ignore[arg-type]  # raises on any error in the SQL
    store.close()


def test_claim_is_one_statement() -> None:
    claim = Queries("sqlite").claim
    body = "\n".join(line for line in claim.splitlines() if not line.lstrip().startswith("--"))
    assert body.count(";") == 0 and "RETURNING" in body


def test_store_urls(tmp_path: Path) -> None:
    from conveyor._stores import open_store

    with pytest.raises(ValueError, match="unknown store URL"):
        open_store("mysql://x")
    with pytest.raises(ValueError, match="names no file"):
        open_store("sqlite://")
    store = open_store(f"sqlite:///{tmp_path}/sub/dir/c.db")
    assert (tmp_path / "sub" / "dir" / "c.db").exists()
    store.close()


def test_messages_changed_by_hand_are_counted_again_by_recount_sql(tmp_path: Path) -> None:
    """Counts are kept by the store's own statements (migration 0005), not by triggers on every row:
    a hand-made change is not counted until recount.sql runs; the migration itself recounts."""
    path = tmp_path / "q.db"
    app = conveyor.App(f"sqlite:///{path}")
    app.worker("w")(lambda event: None)
    for i in range(5):
        app.emit({"i": i}, "w")
    assert app.status()["w"].queued == 5
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE messages SET state = 'dead' WHERE id IN (SELECT id FROM messages LIMIT 2)")
    db.execute("DELETE FROM messages WHERE id = (SELECT max(id) FROM messages)")
    assert (app.status()["w"].queued, app.status()["w"].dead) == (5, 0)  # not counted by themselves
    db.execute(Queries("sqlite").recount)
    assert (app.status()["w"].queued, app.status()["w"].dead) == (2, 2)
    db.execute("DELETE FROM messages")
    db.execute(Queries("sqlite").recount)
    assert "w" not in app.status() or app.status()["w"].queued == app.status()["w"].dead == 0
    db.close()
    app.close()


def test_keys_become_per_worker_and_an_older_databases_messages_survive(tmp_path: Path) -> None:
    """Migration 0006: the dedup index moves from (key) to (worker, key); every row stays."""
    path = tmp_path / "keys.db"
    db = sqlite3.connect(path, isolation_level=None)
    for version, _, sql in migrations("sqlite"):
        if version > 5:
            break
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {version}")
    rows = [
        ("inv", '{"n": 1}', "queued", "invoice-7"),
        ("inv", '{"n": 2}', "dead", "invoice-7"),
        ("ship", '{"n": 3}', "running", "order-1"),
        ("ship", '{"n": 4}', "queued", None),
    ]
    for worker, event, state, key in rows:
        db.execute(
            "INSERT INTO messages (worker, event, state, enqueued_at, run_at, key) VALUES (?, ?, ?, 1, 1, ?)",
            (worker, event, state, key),
        )
    db.execute(Queries("sqlite").recount)
    db.close()
    app = conveyor.App(f"sqlite:///{path}")
    try:
        assert app.store.schema_version() == migrations("sqlite")[-1][0] >= 6  # type: ignore[attr-defined]
        kept = {(m.worker, m.event["n"], m.state, m.key) for m in app.messages()}
        assert kept == {(w, orjson.loads(e)["n"], s, k) for w, e, s, k in rows}
        with pytest.warns(conveyor.UnknownWorkerWarning):
            assert app.emit({"n": 5}, "inv", key="invoice-7") == 1  # still deduped within its worker
        with pytest.warns(conveyor.UnknownWorkerWarning):
            other = app.emit({"n": 6}, "ship", key="invoice-7")  # another worker's: a new message
        assert other > 4
        (index,) = (
            sqlite3.connect(path)
            .execute("SELECT sql FROM sqlite_master WHERE name = 'messages_key'")
            .fetchone()
        )
        assert "(worker, key)" in index
    finally:
        app.close()
