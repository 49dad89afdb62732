"""PostgreSQL: schemas keep apps apart in one database; versioned migrations; URL handling."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

import conveyor
from conveyor._stores import open_store
from conveyor._stores._postgres import PostgresStore, _Queries, parse_url
from conveyor._stores._sql import migrations
from conveyor._stores._sqlite import StoreVersionError


def _with_schema(url: str, schema: str) -> str:
    return f"{url}?schema={schema}"


def test_two_apps_share_one_database_in_their_own_schemas(pg_url: str) -> None:
    a = conveyor.App(_with_schema(pg_url, "app_a"))
    b = conveyor.App(_with_schema(pg_url, "app_b"))
    seen: list[tuple[str, Any]] = []
    for name, app in (("a", a), ("b", b)):

        @app.worker("w")
        def handle(event: Any, name: str = name) -> None:
            seen.append((name, event))

    try:
        a.emit(1, "w")
        b.emit(2, "w")
        b.emit(3, "w")
        assert a.status()["w"].queued == 1 and b.status()["w"].queued == 2
        a.pause("w")
        assert not b.status()["w"].paused  # rules are per schema too
        assert b.drain(timeout=10) == 2
        assert a.drain(timeout=10) == 0
        a.resume("w")
        assert a.drain(timeout=10) == 1
        assert sorted(seen) == [("a", 1), ("b", 2), ("b", 3)]
    finally:
        a.close()
        b.close()
    with psycopg.connect(pg_url) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'app_%'")}
        public = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert schemas == {"app_a", "app_b"}
    assert public == (0,)  # nothing lands in the user's own schema


def test_the_default_schema_is_conveyor_and_never_public(pg_url: str) -> None:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    try:
        assert store.schema == "conveyor" and store.schema_version() == migrations("postgres")[-1][0]
    finally:
        store.close()


@pytest.mark.parametrize("schema", ["", "1abc", "a-b", "a;drop", "x" * 51, "a b"])
def test_a_bad_schema_name_is_one_clear_error(pg_url: str, schema: str) -> None:
    with pytest.raises(ValueError, match="schema must be"):
        open_store(_with_schema(pg_url, schema))


def test_a_database_migrated_by_a_newer_conveyor_is_refused(pg_url: str) -> None:
    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO conveyor.migrations (version, name) VALUES (9999, 'from_the_future')")
    with pytest.raises(StoreVersionError, match="version 9999, newer than this Conveyor knows"):
        open_store(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # nothing was changed by the refusal
        versions = [r[0] for r in conn.execute("SELECT version FROM conveyor.migrations ORDER BY 1")]
    assert versions == [*(n for n, _, _ in migrations("postgres")), 9999]


def test_hosts_starting_at_once_migrate_a_new_schema_once(pg_url: str) -> None:
    url = _with_schema(pg_url, "fresh")
    errors: list[BaseException] = []
    stores: list[PostgresStore] = []

    def start() -> None:
        try:
            s = open_store(url)
            assert isinstance(s, PostgresStore)
            stores.append(s)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == [] and len(stores) == 6
        assert all(s.schema_version() == migrations("postgres")[-1][0] for s in stores)
    finally:
        for s in stores:
            s.close()


def test_unreachable_server_is_one_clear_error_without_the_password() -> None:
    url = "postgresql://someone:s3cret@127.0.0.1:1/nodb"
    with pytest.raises(psycopg.OperationalError) as caught:
        open_store(url)
    text = str(caught.value)
    assert "cannot connect to the PostgreSQL store postgresql://someone:***@127.0.0.1:1/nodb" in text
    assert "s3cret" not in text


def test_url_parameters_for_conveyor_are_taken_out_and_the_rest_kept() -> None:
    conninfo, schema, pool = parse_url("postgres://u@h:5/db?schema=s1&pool_size=3&sslmode=disable")
    assert (conninfo, schema, pool) == ("postgresql://u@h:5/db?sslmode=disable", "s1", 3)
    with pytest.raises(ValueError, match="pool_size"):
        parse_url("postgresql://u@h/db?pool_size=0")


def test_keys_become_per_worker_and_an_older_schemas_messages_survive(pg_url: str) -> None:
    """Migration 0004: the dedup index moves from (key) to (worker, key); every row stays."""
    queries = _Queries("old")
    rows = [
        ("inv", '{"n": 1}', "queued", "invoice-7"),
        ("inv", '{"n": 2}', "dead", "invoice-7"),
        ("ship", '{"n": 3}', "running", "order-1"),
        ("ship", '{"n": 4}', "queued", None),
    ]
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute(queries.create_schema)
        for number, name, sql in migrations("postgres"):
            if number > 3:
                break
            conn.execute(queries.fill(sql))
            conn.execute(queries.record_migration, (number, name))
            if number == 1:  # rows of a version-1 database (0002 counts them)
                for row in rows:
                    conn.execute(
                        "INSERT INTO old.messages (worker, event, state, enqueued_at, run_at, key) "
                        "VALUES (%s, %s, %s, 1, 1, %s)",
                        row,
                    )
    app = conveyor.App(_with_schema(pg_url, "old"))
    try:
        assert app.store.schema_version() == migrations("postgres")[-1][0] >= 4  # type: ignore[attr-defined]
        kept = {(m.worker, m.event["n"], m.state, m.key) for m in app.messages()}
        assert kept == {(w, int(e[6]), s, k) for w, e, s, k in rows}
        assert app.status()["inv"].queued == 1 and app.status()["ship"].running == 1
        with pytest.warns(conveyor.UnknownWorkerWarning):
            first = app.emit({"n": 5}, "inv", key="invoice-7")
        assert first == next(m.id for m in app.messages("inv", "queued"))  # still deduped within its worker
        with pytest.warns(conveyor.UnknownWorkerWarning):
            other = app.emit({"n": 6}, "ship", key="invoice-7")  # another worker's: a new message
        assert other not in {m.id for m in app.messages("inv")}
        assert len(app.messages("ship")) == 3
    finally:
        app.close()
