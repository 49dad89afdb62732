"""PostgreSQL: transactional emit through a caller's connection, NOTIFY on commit, bad connections."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

import conveyor
from conveyor._stores import open_store
from conveyor._stores._postgres import PostgresStore


@pytest.fixture
def pg_app(pg_url: str) -> Any:
    app = conveyor.App(pg_url)

    @app.worker("w")
    def handle(event: Any) -> None:
        pass

    yield app
    app.close()


def _heard(store: PostgresStore, action: Any, timeout: float = 2.0) -> bool:
    """Start listening, run ``action``, and say whether a wake-up hint arrived within ``timeout``."""

    async def go() -> bool:
        wakeups = store.wakeups()
        try:
            await wakeups.wait(0)  # connects and LISTENs
            action()
            return await wakeups.wait(timeout)
        finally:
            wakeups.close()

    return asyncio.run(go())


def test_commit_makes_the_message_visible_and_wakes_runners(pg_app: conveyor.App, pg_url: str) -> None:
    store = pg_app.store
    assert isinstance(store, PostgresStore)
    with psycopg.connect(pg_url) as conn:  # not autocommit: the emit joins the open transaction
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        conn.execute("INSERT INTO orders VALUES (1)")
        holder: list[int] = []
        # inside the open transaction: nobody else sees the message, and no runner is woken yet
        assert not _heard(store, lambda: holder.append(pg_app.emit({"order": 1}, "w", conn=conn)), 0.3)
        assert pg_app.messages() == []
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        # the commit publishes the order row and the message together, and wakes listeners
        assert _heard(store, conn.commit)
    (message,) = pg_app.messages()
    assert message.id == holder[0] and message.event == {"order": 1} and message.state == "queued"
    assert pg_app.drain(timeout=10) == 1


def test_rollback_leaves_no_message(pg_app: conveyor.App, pg_url: str) -> None:
    store = pg_app.store
    assert isinstance(store, PostgresStore)
    with psycopg.connect(pg_url) as conn:
        pg_app.emit({"order": 2}, "w", conn=conn)
        pg_app.emit({"order": 3}, "w", conn=conn, key="k3")
        assert not _heard(store, conn.rollback, 0.3)
    assert pg_app.messages() == []
    assert pg_app.status()["w"].queued == 0
    # the key was never live: a later emit with it is a new message
    first = pg_app.emit({"order": 3}, "w", key="k3")
    assert pg_app.emit({"order": 3}, "w", key="k3") == first


def test_emit_inside_a_transaction_block_and_a_savepoint(pg_app: conveyor.App, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            kept = pg_app.emit("kept", "w", conn=conn)
            with pytest.raises(RuntimeError), conn.transaction():  # a savepoint rolled back
                pg_app.emit("undone", "w", conn=conn)
                raise RuntimeError("undo the inner block")
        # an autocommit connection outside a block commits the emit at once
        alone = pg_app.emit("alone", "w", conn=conn)
    assert [m.id for m in pg_app.messages()] == [kept, alone]  # a caller's dict_row factory is no matter


def test_a_failed_transaction_or_wrong_object_is_refused_and_nothing_is_written(
    pg_app: conveyor.App, pg_url: str
) -> None:
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        with pytest.raises(ValueError, match="roll it back"):
            pg_app.emit("x", "w", conn=conn)
        conn.rollback()
    with pytest.raises(ValueError, match="closed"):
        pg_app.emit("x", "w", conn=conn)
    with pytest.raises(TypeError, match="psycopg"):
        pg_app.emit("x", "w", conn="postgresql://nope")

    async def with_async() -> None:
        async with await psycopg.AsyncConnection.connect(pg_url) as aconn:
            with pytest.raises(TypeError, match="AsyncConnection"):
                pg_app.emit("x", "w", conn=aconn)

    asyncio.run(with_async())
    assert pg_app.messages() == []


def test_emit_many_is_one_transaction_in_input_order(pg_app: conveyor.App) -> None:
    ids = pg_app.emit_many([(i, "w") for i in range(500)])
    assert ids == sorted(ids) and len(set(ids)) == 500
    assert [m.event for m in pg_app.messages(limit=1000)] == list(range(500))
    with pytest.raises(ValueError):
        pg_app.emit_many([(1, "w"), (2, "not a valid name!")])
    assert pg_app.status()["w"].queued == 500


def test_emits_after_the_server_dropped_idle_connections(pg_app: conveyor.App, pg_url: str) -> None:
    """Connections the server ended (pg_terminate_backend, as on a restart) are replaced, not used."""
    pg_app.emit("warm", "w")
    pg_app.status()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        others = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        killed = admin.execute(others.replace("count(*)", "count(pg_terminate_backend(pid))")).fetchone()
        assert killed is not None and killed[0] >= 2  # the emit lane and the pool
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and admin.execute(others).fetchone() != (0,):
            time.sleep(0.02)  # pg_terminate_backend only signals: wait until those sessions ended
    pg_app.emit("after", "w")
    assert [m.event for m in pg_app.messages()] == ["warm", "after"]


def test_open_store_takes_both_schemes(pg_url: str) -> None:
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        try:
            assert isinstance(store, PostgresStore) and store.schema == "conveyor"
        finally:
            store.close()


def test_many_threads_emitting_at_once_share_a_bounded_set_of_connections(
    pg_app: conveyor.App, pg_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from conveyor._stores._postgres import LANE_SIZE

    def emit_some(t: int) -> list[int]:
        return [pg_app.emit({"t": t, "i": i}, "w") for i in range(20)]

    with ThreadPoolExecutor(32) as pool:
        ids = [i for batch in pool.map(emit_some, range(32)) for i in batch]
    assert len(set(ids)) == 640 and pg_app.status()["w"].queued == 640
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchone()
    assert row is not None and row[0] <= LANE_SIZE + 10 + 1  # emit lane + pool (pool_size 10) + this one


def test_emits_wait_for_the_flush_and_runner_bookkeeping_does_not(pg_app: conveyor.App) -> None:
    """An emit that returned is durable (``synchronous_commit`` as the server sets it, on here); the
    connections that claims and acks run on skip the flush (at-least-once covers a lost ack) and plan
    the claim once."""
    store = pg_app.store
    assert isinstance(store, PostgresStore)
    mid = pg_app.emit({"i": 1}, "w")
    (claimed,) = store.claim("r1", {"w": None}, 10, 30.0)
    assert claimed.id == mid
    emit_conn = store._lane.get()
    runner_conn = store._runner_lane.get()
    assert emit_conn is not None and runner_conn is not None
    try:
        assert _one_value(emit_conn, "SHOW synchronous_commit") == "on"
        assert _one_value(runner_conn, "SHOW synchronous_commit") == "off"
        assert _one_value(runner_conn, "SHOW plan_cache_mode") == "force_generic_plan"
    finally:
        store._lane.put(emit_conn)
        store._runner_lane.put(runner_conn)


def _one_value(conn: Any, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_the_emit_hot_path_keeps_every_field_whatever_the_client_encoding(pg_url: str) -> None:
    """Single emits run on dedicated connections through libpq with text parameters: the event, the
    delay and the chain arrive intact, also when the URL asks libpq for another client encoding."""
    sep = "&" if "?" in pg_url else "?"
    app = conveyor.App(f"{pg_url}{sep}client_encoding=LATIN1")
    seen: list[Any] = []

    @app.worker("parent")
    def parent(event: Any) -> None:
        conveyor.emit({"from": "parent"}, "child")

    @app.worker("child")
    def child(event: Any, msg: conveyor.Message) -> None:
        seen.append((event, msg.parent_id, msg.root_id))

    try:
        event = {"text": "café, naïve", "f": 1.25, "none": None, "list": [1, "ü"]}
        later = app.emit(event, "parent", delay=2.5)
        (message,) = app.messages("parent")
        assert message.id == later and message.event == event
        assert (message.run_at - message.enqueued_at).total_seconds() == pytest.approx(2.5, abs=0.01)
        app.cancel(later)
        first = app.emit({"go": 1}, "parent")
        assert app.drain() == 2
        ((child_event, parent_id, root_id),) = seen
        assert child_event == {"from": "parent"} and parent_id == first and root_id == first
    finally:
        app.close()


def test_a_statement_error_on_the_emit_hot_path_is_psycopgs_error_and_changes_nothing(
    pg_app: conveyor.App, pg_url: str
) -> None:
    pg_app.emit({"i": 1}, "w")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE conveyor.messages ADD CONSTRAINT no_two CHECK (event <> '{\"i\":2}')")
        try:
            with pytest.raises(psycopg.errors.CheckViolation, match="no_two"):
                pg_app.emit({"i": 2}, "w")
        finally:
            admin.execute("ALTER TABLE conveyor.messages DROP CONSTRAINT no_two")
    pg_app.emit({"i": 3}, "w")  # the lane replaced the connection it gave up
    assert [m.event for m in pg_app.messages()] == [{"i": 1}, {"i": 3}]
    assert pg_app.status()["w"].queued == 2


def test_a_lane_connection_whose_setup_fails_is_closed_and_not_counted(pg_url: str) -> None:
    from conveyor._stores._pg_lane import Lane, Prepared

    opened: list[psycopg.Connection[Any]] = []

    def connect() -> psycopg.Connection[Any]:
        opened.append(psycopg.connect(pg_url, autocommit=True))
        return opened[-1]

    lane = Lane(connect, 1, prepared=[Prepared("bad", "SELECT * FROM no_such_table WHERE a = %s")])
    for _ in range(2):  # the size of one stays free after each failure
        with pytest.raises(psycopg.errors.UndefinedTable):
            lane.get()
    assert len(opened) == 2 and all(c.closed for c in opened)


def test_aemit_with_conn_commits_or_rolls_back_with_the_callers_transaction(
    pg_app: conveyor.App, pg_url: str
) -> None:
    async def go(conn: psycopg.Connection[Any]) -> int:
        return await pg_app.aemit({"order": 2}, "w", conn=conn)

    with psycopg.connect(pg_url) as conn:
        asyncio.run(go(conn))
        assert pg_app.messages() == []  # inside the caller's open transaction
        conn.rollback()
    assert pg_app.messages() == []
    with psycopg.connect(pg_url) as conn:
        message_id = asyncio.run(go(conn))
        conn.commit()
    assert [m.id for m in pg_app.messages()] == [message_id]
