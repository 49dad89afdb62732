"""The many-hosts store: one PostgreSQL database shared by every runner and emitter.

- Claims are one statement with ``FOR UPDATE SKIP LOCKED``; a worker's global concurrency cap is
  enforced inside that statement by ``capped_room`` (see migrations/0001_init.sql), which serializes
  claims of that one worker across hosts with a transaction-scoped advisory lock.
- Every change runners must hear of (an emit, a rule change, a rescue, a message back in the queue)
  sends ``NOTIFY`` in its own transaction, so runners hear of it on commit; ``wakeups()`` LISTENs on a
  dedicated connection.
- ``enqueue(..., conn=psycopg_connection)`` inserts through a caller's connection, inside its open
  transaction: a rollback leaves no message, a commit makes it visible and wakes the runners.
- The clock is the server's: ``now()`` in SQL, times returned as seconds since the epoch.
- ``?schema=name`` in the URL (default ``conveyor``) keeps several apps apart in one database.
- ``status()`` reads counts, not messages: every statement that adds, deletes or moves messages appends
  its net change per (worker, state) to ``count_deltas`` (rows only ever inserted: no lock shared between
  emitters), and ``fold_counts`` moves them into ``counts`` at every ``rescue()`` and ``counts()`` (see
  migrations/0002_counts.sql).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg import pq
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from .._errors import StoreNotFound
from .._rates import Rate
from ._base import (
    RUNNER_TTL,
    Claimed,
    NewMessage,
    RunnerInfo,
    Settlement,
    claimed_in_order,
)
from ._budget import EMIT_LANE, sizes, with_param
from ._pg_dashboard import PostgresDashboard
from ._pg_groups import PostgresGroups
from ._pg_lane import Conn, Lane, Prepared, broken
from ._pg_reads import PostgresReads
from ._pg_results import PostgresResults
from ._pg_schedules import PostgresSchedules
from ._pg_stats import PostgresStats
from ._pg_url import DEFAULT_SCHEMA, _Queries, _redact, budget_of, parse_url
from ._pg_wakeups import PostgresWakeups
from ._spread import ClaimSpread
from ._sql import migrations
from ._sqlite import StoreVersionError, _kept_traces

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "PostgresWakeups", "parse_url"]

LANE_SIZE = EMIT_LANE
"""Dedicated connections for single emits, unless ``max_connections`` leaves fewer (``_budget``)."""
APPLICATION_NAME = "conveyor"
"""The application_name of the store's connections, unless the URL sets one (``conveyor run`` names
its runners' and web face's ``conveyor-runner`` and ``conveyor-web``)."""


class PostgresStore(
    PostgresReads, PostgresSchedules, PostgresResults, PostgresGroups, PostgresStats, PostgresDashboard
):
    """Store on one PostgreSQL database (``postgresql://user:password@host:port/db?schema=name``)."""

    runner_ttl = RUNNER_TTL

    def __init__(self, url: str, *, connect_timeout: float = 10.0, create: bool = True) -> None:
        """``create=False``: use an existing Conveyor schema only (it is not created)."""
        self.url = url
        self._spread = ClaimSpread()
        conninfo, self.schema, pool_size = parse_url(url)
        self.conninfo = with_param(conninfo, "fallback_application_name", APPLICATION_NAME, keep=True)
        explicit_pool = "pool_size=" in url.partition("?")[2]
        self.sizes = sizes(budget_of(url), pool_size if explicit_pool else None)
        """The most connections of each kind this store opens (``max_connections`` caps their sum)."""
        self._q = _Queries(self.schema)
        self.channel = self._q.channel
        self._connect_timeout = connect_timeout
        if not create:
            with self._connect() as conn:
                if not _one(conn.execute(self._q.schema_exists, (self.schema,))):
                    raise StoreNotFound(f"store {_redact(url)} does not exist (no schema {self.schema!r})")
        self._migrate()
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=self.sizes.pool,
            kwargs={"autocommit": True, "connect_timeout": int(connect_timeout)},
            name=f"conveyor-{self.schema}",
            timeout=5.0,  # a store call waits this long for a connection, then fails (the runner retries)
            reconnect_timeout=86_400.0,  # keep reconnecting (backoff from 1 s): outlive any restart
            open=False,
        )
        self._pool.open(wait=False)
        self._enqueue_one = Prepared("conveyor_enqueue", self._q.enqueue)
        # Dedicated autocommit connections for the emit hot path (beyond them, emits use the pool), and
        # for runner bookkeeping (a runner process claims and settles from one thread; runner_session.sql).
        self._lane = Lane(self._connect, self.sizes.emit_lane, prepared=[self._enqueue_one])
        self._runner_lane = Lane(self._connect, self.sizes.runner_lane, self._q.runner_session)
        self._held: dict[str, set[int]] = {}
        """Per runner, the ids its claims returned and it has not settled: heartbeats renew only those."""
        self._held_lock = threading.Lock()

    # -- connections -----------------------------------------------------------------------------
    def _connect(self) -> Conn:
        try:
            return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=int(self._connect_timeout))
        except psycopg.OperationalError as error:
            raise psycopg.OperationalError(
                f"cannot connect to the PostgreSQL store {_redact(self.url)}: {error}".strip()
            ) from error

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Conn]:
        """A pooled autocommit connection. One the server has dropped (a restart) is never handed out:
        the pool discards it on return and opens another."""
        try:
            conn = self._pool.getconn()
            for _ in range(16):
                if not broken(conn):
                    break
                conn.close()
                self._pool.putconn(conn)
                conn = self._pool.getconn()
        except PoolTimeout as error:
            raise PoolTimeout(f"the PostgreSQL store {_redact(self.url)} is unavailable: {error}") from error
        try:
            yield conn
        finally:
            self._pool.putconn(conn)

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        steps = migrations("postgres")
        latest = steps[-1][0]
        with self._connect() as conn, conn.transaction():
            conn.execute(self._q.migrate_lock)
            conn.execute(self._q.create_schema)
            version = _one(conn.execute(self._q.schema_version))
            if version > latest:
                raise StoreVersionError(
                    f"{_redact(self.url)}: schema {self.schema!r} has version {version}, newer than this "
                    f"Conveyor knows ({latest}); upgrade Conveyor to use it"
                )
            for number, name, sql in steps:
                if number > version:
                    conn.execute(self._q.fill(sql))
                    conn.execute(self._q.record_migration, (number, name))

    def schema_version(self) -> int:
        with self._conn() as conn:
            return _one(conn.execute(self._q.schema_version))

    # -- the message's life ----------------------------------------------------------------------
    def enqueue_nowait(self, message: NewMessage) -> int | None:
        return None  # every write is a round trip to the server: always on the emit thread

    def enqueue(self, messages: Sequence[NewMessage], conn: Any = None) -> list[int]:
        if conn is not None:
            return self._enqueue_in(_caller_connection(conn), messages)
        if len(messages) == 1 and messages[0].key is None:
            m = messages[0]  # the hot path: one prepared, autocommitted statement on a dedicated connection
            lane = self._lane.get()
            if lane is None:
                params = (
                    m.worker,
                    m.event.decode(),
                    m.delay,
                    m.parent_id,
                    m.root_id,
                    m.chain,
                    m.looped,
                    m.priority,
                    m.meta,
                )
                with self._conn() as pooled:
                    return [_one(pooled.execute(self._q.enqueue, params, prepare=True))]
            try:
                result = self._enqueue_one.run(lane, _enqueue_params(m))
            except BaseException:
                self._lane.drop(lane)
                raise
            self._lane.put(lane)
            value = result.get_value(0, 0)
            assert value is not None
            return [int(value)]
        if not messages:
            return []
        with self._conn() as own, own.transaction():
            return self._enqueue_in(own, messages)

    def _enqueue_in(self, conn: Conn, messages: Sequence[NewMessage]) -> list[int]:
        """Insert through ``conn`` in whatever transaction it has open (the caller commits)."""
        q = self._q
        with conn.cursor(row_factory=tuple_row) as cur:
            if all(m.key is None for m in messages) and len(messages) > 1:
                cur.execute(
                    q.enqueue_many,
                    {
                        "workers": [m.worker for m in messages],
                        "events": [m.event.decode() for m in messages],
                        "delays": [m.delay for m in messages],
                        "parents": [m.parent_id for m in messages],
                        "roots": [m.root_id for m in messages],
                        "chains": [m.chain for m in messages],
                        "looped": [m.looped for m in messages],
                        "priorities": [m.priority for m in messages],
                        "metas": [m.meta for m in messages],
                    },
                )
                return sorted(row[0] for row in cur.fetchall())
            ids: list[int] = []
            for m in messages:
                params: tuple[Any, ...] = (
                    m.worker,
                    m.event.decode(),
                    m.delay,
                    m.parent_id,
                    m.root_id,
                    m.chain,
                    m.looped,
                    m.priority,
                    m.meta,
                )
                if m.key is None:
                    cur.execute(q.enqueue, params)
                    ids.append(_one(cur))
                    continue
                cur.execute(q.enqueue_keyed, (*params, m.key))
                row = cur.fetchone()
                if row is None:
                    cur.execute(q.find_key, (m.worker, m.key))
                    row = cur.fetchone()
                    if row is None:  # the holder finished between the two statements: insert again
                        cur.execute(q.enqueue_keyed, (*params, m.key))
                        row = cur.fetchone()
                if row is None:
                    raise RuntimeError(f"could not enqueue or find the message with key {m.key!r}")
                ids.append(row[0])
            return ids

    def claim(
        self,
        runner: str,
        limits: Mapping[str, int | None],
        limit: int,
        lease: float,
        *,
        rates: Mapping[str, Rate] | None = None,
    ) -> list[Claimed]:
        if not limits or limit <= 0:
            return []
        params = {
            "workers": list(limits),
            "caps": [limits[w] for w in limits],
            "limit": limit,
            "per_worker": self._spread.per_worker(runner, limit),
            "runner": runner,
            "lease": float(lease),
        }
        query = self._q.claim
        if rates:  # some worker has a rate: the statement that also reads and moves the buckets
            query = self._q.claim_paced
            paced = [rates.get(w) for w in limits]
            params["rate_ns"] = [None if r is None else r.n for r in paced]
            params["rate_periods"] = [None if r is None else r.period for r in paced]
        with self._runner_conn() as (conn, pooled):
            if pooled:
                with conn.pipeline(), conn.transaction():
                    conn.execute(self._q.runner_transaction)
                    cur = conn.execute(query, params, prepare=True)
            else:  # one statement, one round trip; the session has the runner settings
                cur = conn.execute(query, params, prepare=True)
            rows = cur.fetchall()
        self._spread.observe(runner, (row[1] for row in rows))
        with self._held_lock:
            self._held.setdefault(runner, set()).update(row[0] for row in rows)
        return claimed_in_order(rows)

    def settle(self, runner: str, batch: Settlement) -> None:
        if not batch:
            return
        with self._runner_conn() as (conn, pooled):
            only_acks = not (
                batch.retry
                or batch.incomplete
                or batch.bury
                or batch.release
                or batch.traces
                or batch.results
                or batch.grouped
                or batch.stats
            )
            if only_acks and not pooled:  # the common case: one statement, one round trip
                conn.execute(self._q.complete, {"ids": batch.complete}, prepare=True)
            else:
                with conn.pipeline(), conn.transaction():
                    cur = conn.cursor()
                    if pooled:
                        cur.execute(self._q.runner_transaction)
                    self._settle_in(cur, runner, batch)
        with self._held_lock:
            held = self._held.get(runner)
            if held:
                held.difference_update(batch.complete, batch.release)
                held.difference_update(i for i, *_ in batch.retry)
                held.difference_update(i for i, _ in batch.incomplete)
                held.difference_update(i for i, *_ in batch.bury)

    @contextlib.contextmanager
    def _runner_conn(self) -> Iterator[tuple[Conn, bool]]:
        """A connection for runner bookkeeping, and whether it came from the pool: a runner-lane
        connection has the runner settings for its session (runner_session.sql); a pooled one needs them
        per transaction (runner_transaction.sql)."""
        lane = self._runner_lane.get()
        if lane is None:
            with self._conn() as conn:
                yield conn, True
            return
        try:
            yield lane, False
        except BaseException:
            self._runner_lane.drop(lane)
            raise
        self._runner_lane.put(lane)

    def _settle_in(self, cur: psycopg.Cursor[tuple[Any, ...]], runner: str, batch: Settlement) -> None:
        q = self._q
        if batch.complete:
            cur.execute(q.complete, {"ids": batch.complete})
        if batch.retry:
            cur.execute(
                q.retry,
                {
                    "ids": [i for i, _, _ in batch.retry],
                    "delays": [float(d) for _, d, _ in batch.retry],
                    "errors": [e for _, _, e in batch.retry],
                    "runner": runner,
                },
            )
        if batch.incomplete:
            cur.execute(
                q.incomplete,
                {
                    "ids": [i for i, _ in batch.incomplete],
                    "delays": [float(d) for _, d in batch.incomplete],
                    "runner": runner,
                },
            )
        if batch.bury:
            cur.execute(
                q.bury,
                {
                    "ids": [i for i, _, _ in batch.bury],
                    "attempts": [a for _, a, _ in batch.bury],
                    "errors": [e for _, _, e in batch.bury],
                    "runner": runner,
                },
            )
        if batch.release:
            cur.execute(q.release, {"ids": batch.release, "runner": runner})
        if batch.due_again():
            cur.execute(q.notify, ("",))  # let idle runners on other hosts look
        if batch.results:
            self._keep_results(cur, batch.results)
        if batch.grouped:
            self._leave_groups(cur, batch.grouped)
        if batch.stats:
            self._add_stats(cur, batch.stats)
        if batch.traces:
            kept = _kept_traces(batch)
            if kept:
                cur.execute(
                    q.insert_trace,
                    {
                        "message_ids": [t.message_id for t in kept],
                        "workers": [t.worker for t in kept],
                        "outcomes": [t.outcome for t in kept],
                        "events": [t.event for t in kept],
                        "results": [t.result for t in kept],
                        "errors": [t.error for t in kept],
                        "tracebacks": [t.traceback for t in kept],
                        "logs": [orjson.dumps(t.logs).decode() for t in kept],
                        "emitted": [orjson.dumps(t.emitted).decode() for t in kept],
                        "attempts": [t.attempt for t in kept],
                        "enqueued": [t.enqueued_at for t in kept],
                        "started": [t.started_at for t in kept],
                        "finished": [t.finished_at for t in kept],
                    },
                )
            keep = {t.worker: t.keep for t in batch.traces}
            cur.execute(q.prune_traces, {"workers": list(keep), "keeps": list(keep.values())})

    def heartbeat(
        self, runner: str, workers: Sequence[str], lease: float, info: RunnerInfo | None = None
    ) -> None:
        """Renew the leases of the messages this runner's claims returned here. A claim that committed
        but whose answer was lost (the connection broke) is not renewed: its lease runs out and any
        runner rescues it, instead of it staying "running" as long as this runner lives."""
        with self._held_lock:
            ids = list(self._held.get(runner, ()))
        params = {
            "runner": runner,
            "workers": list(workers),
            "lease": float(lease),
            "ids": ids,
            **self._runner_params(info),
        }
        with self._conn() as conn, conn.pipeline(), conn.transaction():
            conn.execute(self._q.runner_transaction)
            conn.execute(self._q.heartbeat, params)
            conn.execute(self._q.upsert_runner, params)

    def rescue(self) -> int:
        with self._conn() as conn:
            rescued = _one(conn.execute(self._q.rescue))
            if _one(conn.execute(self._q.fold_counts)):  # its own transaction: keeps count_deltas small
                conn.execute(self._q.vacuum_count_deltas)
            return rescued

    def leave(self, runner: str) -> None:
        with self._held_lock:
            self._held.pop(runner, None)
        with self._conn() as conn:
            conn.execute(self._q.delete_runner, (runner,))

    # -- rules -----------------------------------------------------------------------------------
    def set_paused(self, worker: str, paused: bool) -> None:
        with self._conn() as conn:
            conn.execute(self._q.set_paused, {"worker": worker, "paused": paused})

    def set_blocked(self, worker: str, reason: str | None) -> None:
        with self._conn() as conn:
            conn.execute(self._q.set_blocked, {"worker": worker, "blocked": reason})

    def loop_count(self, root_id: int, worker: str, cap: int) -> int:
        with self._conn() as conn:
            return _one(conn.execute(self._q.loop_count, {"root": root_id, "worker": worker, "cap": cap}))

    def next_due(self, workers: Sequence[str], margin: float) -> float | None:
        with self._runner_conn() as (conn, _pooled):
            row = conn.execute(
                self._q.next_due, {"workers": list(workers), "margin": margin}, prepare=True
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def rate_wait(self, workers: Sequence[str]) -> float | None:
        with self._runner_conn() as (conn, _pooled):
            row = conn.execute(self._q.rate_wait, {"workers": list(workers)}, prepare=True).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- operator actions ------------------------------------------------------------------------
    def cancel(self, message_id: int) -> bool:
        with self._conn() as conn, conn.transaction():
            cancelled = _one(conn.execute(self._q.cancel, (message_id,))) > 0
            if cancelled:  # a member of a group leaves it; the last one emits the group's then message
                self._leave_groups(conn.cursor(), [message_id])
            return cancelled

    def purge(self, worker: str) -> int:
        with self._conn() as conn, conn.transaction():
            row = conn.execute(self._q.purge, (worker,)).fetchone()
            assert row is not None
            purged, members = row
            if members:  # they leave their groups; the last one of a group emits its then message
                self._leave_groups(conn.cursor(), members)
            return int(purged)

    def retry_dead(self, message_id: int | None, worker: str | None) -> int:
        with self._conn() as conn:
            return _one(conn.execute(self._q.retry_dead, {"id": message_id, "worker": worker}))

    def discard_dead(self, message_id: int | None, worker: str | None) -> int:
        with self._conn() as conn:
            return _one(conn.execute(self._q.discard_dead, {"id": message_id, "worker": worker}))

    def wakeups(self) -> PostgresWakeups:
        return PostgresWakeups(self.conninfo, self._q.listen, self._connect_timeout)

    def close(self) -> None:
        self._lane.close()
        self._runner_lane.close()
        self._pool.close()


def _enqueue_params(m: NewMessage) -> list[bytes | None]:
    """enqueue.sql's parameters as text, for ``Prepared.run`` (the lane speaks UTF-8; events are JSON in
    UTF-8 already)."""
    return [
        m.worker.encode(),
        m.event,
        repr(float(m.delay)).encode(),
        None if m.parent_id is None else str(m.parent_id).encode(),
        None if m.root_id is None else str(m.root_id).encode(),
        None if m.chain is None else m.chain.encode(),
        b"t" if m.looped else b"f",
        b"0" if m.priority == 0 else str(m.priority).encode(),
        None if m.meta is None else m.meta.encode(),
    ]


def _caller_connection(conn: Any) -> Conn:
    if isinstance(conn, psycopg.AsyncConnection):
        raise TypeError(
            "emit(conn=...) needs a blocking psycopg.Connection; an AsyncConnection cannot be used by "
            "the blocking store (emit from a thread, or open a psycopg.Connection for the transaction)"
        )
    if not isinstance(conn, psycopg.Connection):
        raise TypeError(
            f"emit(conn=...) takes an open psycopg (3) Connection to enqueue inside its transaction, "
            f"not {type(conn).__name__}"
        )
    if conn.closed:
        raise ValueError("emit(conn=...): the connection is closed")
    if conn.info.transaction_status == pq.TransactionStatus.INERROR:
        raise ValueError("emit(conn=...): the connection's transaction has failed; roll it back first")
    return conn


def _one(cursor: psycopg.Cursor[Any]) -> int:
    row = cursor.fetchone()
    assert row is not None
    return int(row[0])
