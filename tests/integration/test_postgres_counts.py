"""PostgreSQL: status() reads counts kept by triggers (count_deltas folded into counts); they must always
equal a direct count of the messages table, whatever moves the messages and however many processes do."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import psycopg
import pytest

import conveyor
from conveyor._stores._base import Settlement
from conveyor._stores._postgres import PostgresStore, _Queries
from conveyor._stores._sql import migrations

Counted = dict[str, tuple[int, int, int, int]]

DIRECT = """
SELECT worker,
       count(*) FILTER (WHERE state = 'queued' AND run_at <= date_part('epoch', now())),
       count(*) FILTER (WHERE state = 'queued' AND run_at > date_part('epoch', now())),
       count(*) FILTER (WHERE state = 'running'),
       count(*) FILTER (WHERE state = 'dead')
FROM {schema}.messages GROUP BY worker
"""

EMITTER = """
import sys, conveyor
app = conveyor.App(sys.argv[1])
me = int(sys.argv[2])
names = ["a", "b", "c"]
for i in range(240):
    app.emit({"p": me, "i": i}, names[i % 3])
    if i % 40 == 0:
        app.emit_many([({"p": me, "i": i, "j": j}, names[j % 3]) for j in range(30)])
    if i % 30 == 0:
        app.emit({"p": me, "later": i}, "c", delay=3600)
        app.emit({"p": me, "k": i}, "a", key=f"k{me}-{i}")
app.close()
"""


def direct(url: str, schema: str = "conveyor") -> Counted:
    with psycopg.connect(url) as conn:
        rows = conn.execute(DIRECT.replace("{schema}", schema)).fetchall()
    return {w: (q, s, r, d) for w, q, s, r, d in rows}


def reported(app: conveyor.App) -> Counted:
    return {
        name: (s.queued, s.scheduled, s.running, s.dead)
        for name, s in app.status().items()
        if s.queued or s.scheduled or s.running or s.dead
    }


def deltas(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM conveyor.count_deltas").fetchone()
    assert row is not None
    return int(row[0])


def test_counts_stay_exact_under_concurrent_emits_from_processes_and_runner_moves(pg_url: str) -> None:
    app = conveyor.App(pg_url)

    @app.worker("a")
    def ok(event: Any) -> None:
        pass

    @app.worker("b", max_attempts=1)
    def fails(event: Any) -> None:
        raise RuntimeError("no")

    # "c" is defined nowhere: its messages are held (unknown), then cancelled, purged, discarded.
    store = app.store
    assert isinstance(store, PostgresStore)
    emitters = [
        subprocess.Popen([sys.executable, "-c", EMITTER, pg_url, str(p)], stderr=subprocess.PIPE, text=True)
        for p in range(3)
    ]
    stop = threading.Event()
    seen: list[Counted] = []

    def fold_and_read() -> None:  # folds racing the emits, as runners' rescue() does every few seconds
        while not stop.is_set():
            store.rescue()
            seen.append(reported(app))
            time.sleep(0.02)

    folder = threading.Thread(target=fold_and_read)
    folder.start()
    try:
        deadline = time.monotonic() + 60
        while any(p.poll() is None for p in emitters):
            assert time.monotonic() < deadline, "emitters did not finish within 60 s"
            app.drain(timeout=30)  # claims, completes, and dead-letters b's messages meanwhile
        for p in emitters:
            assert p.wait(5) == 0, p.stderr.read() if p.stderr else ""
    finally:
        stop.set()
        folder.join(10)
        for p in emitters:
            if p.poll() is None:
                p.kill()
                p.wait(5)
    assert seen and all(min(v) >= 0 for counts in seen for v in counts.values())
    app.drain(timeout=30)
    assert reported(app) == direct(pg_url)
    assert reported(app)["b"][3] == 3 * (80 + 6 * 10)  # every message of b is a dead letter
    assert reported(app)["c"][1] == 3 * 8  # the delayed ones
    assert app.unknown()[0].count == reported(app)["c"][0] + reported(app)["c"][1]

    # operator moves: each one shows at once in status(), before and after a fold
    (first_c,) = app.messages(worker="c", state="queued", limit=1)
    assert app.cancel(first_c.id)
    assert app.retry_dead(worker="b") == 3 * 140
    assert reported(app) == direct(pg_url)
    app.drain(timeout=30)
    dead = app.messages(worker="b", state="dead", limit=5)
    assert app.discard_dead(id=dead[0].id) == 1
    assert reported(app) == direct(pg_url)
    assert app.purge("c") > 0
    assert reported(app) == direct(pg_url)
    store.rescue()
    assert deltas(pg_url) == 0
    assert reported(app) == direct(pg_url)
    app.close()


def test_claims_heartbeats_settles_and_rescues_are_counted(pg_url: str) -> None:
    app = conveyor.App(pg_url)
    app.worker("a")(lambda event: None)
    store = app.store
    assert isinstance(store, PostgresStore)
    app.emit_many([({"i": i}, "a") for i in range(20)])
    claimed = store.claim("r1", {"a": None}, 8, 30.0)
    assert len(claimed) == 8
    assert reported(app) == direct(pg_url) == {"a": (12, 0, 8, 0)}
    store.heartbeat("r1", ["a"], 30.0)  # renews leases: no state moves, no delta
    store.rescue()
    assert deltas(pg_url) == 0
    ids = [c.id for c in claimed]
    store.settle(
        "r1",
        Settlement(
            complete=ids[:2],
            retry=[(ids[2], 3600.0, "later")],
            incomplete=[(ids[3], 0.0)],
            bury=[(ids[4], 1, "dead"), (ids[5], 1, "dead")],
            release=[ids[6]],
        ),
    )
    assert reported(app) == direct(pg_url) == {"a": (14, 1, 1, 2)}
    short = store.claim("r2", {"a": None}, 3, 0.01)
    assert len(short) == 3
    time.sleep(0.05)
    assert store.rescue() == 3  # the expired leases go back to the queue
    assert reported(app) == direct(pg_url) == {"a": (14, 1, 1, 2)}
    assert app.discard_dead(worker="a") == 2
    store.settle("r1", Settlement(complete=[ids[7]]))
    assert reported(app) == direct(pg_url) == {"a": (14, 1, 0, 0)}
    app.close()


def test_the_migration_counts_messages_already_there(pg_url: str) -> None:
    schema = "before_counts"
    q = _Queries(schema)
    (first, name, sql), *_ = migrations("postgres")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a store at version 1, with messages
        conn.execute(q.create_schema)
        conn.execute(q.fill(sql))
        conn.execute(q.record_migration, (first, name))
        conn.execute(
            f"INSERT INTO {schema}.messages (worker, event, enqueued_at, run_at, state)"
            " SELECT 'w' || (i % 4), '{}', 0, CASE WHEN i % 5 = 0 THEN 1e12 ELSE 0 END,"
            " CASE WHEN i % 7 = 0 THEN 'dead' ELSE 'queued' END FROM generate_series(1, 1000) AS i"
        )
    url = f"{pg_url}?schema={schema}"
    app = conveyor.App(url)
    store = app.store
    assert isinstance(store, PostgresStore)
    assert store.schema_version() == len(migrations("postgres"))
    counted = reported(app)
    assert counted == direct(pg_url, schema)
    assert sum(sum(v) for v in counted.values()) == 1000
    app.close()


@pytest.mark.parametrize("state", [None, "queued", "scheduled", "running", "dead"])
def test_messages_lists_the_oldest_of_every_worker_in_order(pg_url: str, state: Any) -> None:
    app = conveyor.App(pg_url)
    for n in ("a", "b", "c"):
        app.worker(n)(lambda event: None)
    for i in range(30):
        app.emit({"i": i}, "abc"[i % 3], delay=3600 if i % 4 == 0 else None)
    store = app.store
    claimed = store.claim("r", {"b": None}, 3, 30.0)
    store.settle("r", Settlement(bury=[(claimed[0].id, 1, "x")]))
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT id, worker, CASE WHEN state = 'queued' AND run_at > date_part('epoch', now())"
            " THEN 'scheduled' ELSE state END FROM conveyor.messages ORDER BY run_at, id"
        ).fetchall()
    chosen = [(i, w) for i, w, s in rows if state is None or s == state]
    assert [m.id for m in app.messages(state=state, limit=7)] == [i for i, _ in chosen][:7]
    assert [m.id for m in app.messages(worker="b", state=state)] == [i for i, w in chosen if w == "b"]
    app.close()


def test_truncate_and_recount_after_messages_inserted_by_hand(pg_url: str) -> None:
    app = conveyor.App(pg_url)
    app.worker("a")(lambda event: None)
    app.emit_many([({"i": i}, "a") for i in range(5)])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("TRUNCATE conveyor.messages")
        assert reported(app) == direct(pg_url) == {}
        conn.execute(  # by hand, not through Conveyor's statements: not counted until recount()
            "INSERT INTO conveyor.messages (worker, event, enqueued_at, run_at)"
            " SELECT 'a', '{}', 0, 0 FROM generate_series(1, 7)"
        )
        assert reported(app) == {}
        conn.execute("SELECT conveyor.recount()")
    assert reported(app) == direct(pg_url) == {"a": (7, 0, 0, 0)}
    assert app.drain(timeout=10) == 7
    assert reported(app) == direct(pg_url) == {}
    app.close()


def test_folded_deltas_are_vacuumed_so_the_table_stays_small(pg_url: str) -> None:
    """Runners reclaim folded delta rows themselves (this server runs with autovacuum off): round after
    round of claims and acks, count_deltas reuses its pages instead of growing."""
    app = conveyor.App(pg_url)
    workers = [f"w{i}" for i in range(20)]
    for name in workers:
        app.worker(name)(lambda event: None)
    store = app.store
    assert isinstance(store, PostgresStore)

    def round_trip() -> None:
        app.emit_many([({"i": i}, name) for name in workers for i in range(10)])
        for _ in range(10):
            claimed = store.claim("r1", dict.fromkeys(workers), 20, 30.0)
            store.settle("r1", Settlement(complete=[c.id for c in claimed]))
        store.rescue()  # folds the deltas, then vacuums them

    def size() -> int:
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT pg_relation_size('conveyor.count_deltas')").fetchone()
            assert row is not None
            return int(row[0])

    for _ in range(5):
        round_trip()
    settled = size()
    for _ in range(20):
        round_trip()
    assert deltas(pg_url) == 0
    assert size() == settled, "count_deltas grew: its folded rows were not reclaimed"
    assert reported(app) == direct(pg_url) == {}
    app.close()
