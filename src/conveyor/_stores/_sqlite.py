"""The embedded store: one SQLite file in WAL mode, shared safely by many processes."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from .._rates import Rate
from ._base import RUNNER_TTL, Claimed, NewMessage, Settlement, Wakeups, claimed_in_order
from ._spread import ClaimSpread
from ._sql import Queries, migrations
from ._sqlite_gate import WriterGate
from ._sqlite_groups import SQLiteGroups
from ._sqlite_rates import SQLiteRates, advance, rooms
from ._sqlite_reads import SQLiteReads
from ._sqlite_results import SQLiteResults
from ._sqlite_schedules import SQLiteSchedules
from ._sqlite_tally import Tally

__all__ = ["SQLiteStore", "StoreVersionError"]

_MIN_SQLITE = (3, 35, 0)  # UPDATE … RETURNING
_NOWAIT_RUN = 200  # enqueue_nowait: at most so many commits in a row without a WAL checkpoint
_BUSY_STEPS = (0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001)
"""Seconds between attempts to take the write lock from another process (then every 1 ms)."""


class StoreVersionError(RuntimeError):
    """The database was written by a newer Conveyor than this one."""


class SQLiteStore(SQLiteReads, SQLiteSchedules, SQLiteRates, SQLiteResults, SQLiteGroups):
    """Store on one SQLite database. ``path`` ``":memory:"`` keeps it in this process only."""

    runner_ttl = RUNNER_TTL

    def __init__(
        self, path: str, *, url: str | None = None, busy_timeout: float = 60.0, create: bool = True
    ) -> None:
        """``create=False``: open an existing database only (its folders and file are not created)."""
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise RuntimeError(f"Conveyor needs SQLite >= 3.35; this Python has {sqlite3.sqlite_version}")
        self.url = url or f"sqlite:///{path}"
        self.path = path
        if path != ":memory:" and create:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._q = Queries("sqlite")
        self._busy_timeout = busy_timeout
        self._data_version: object = None
        self._lock = threading.RLock()
        self._nowait_run = 0
        self._nowait_db: sqlite3.Connection | None = None
        self._spread = ClaimSpread()
        self._gate = WriterGate(path)
        try:
            self._open(path, busy_timeout, create)
        except BaseException:
            if hasattr(self, "_db"):
                self._db.close()
            self._gate.close(discard=True)  # a file that is not a database keeps no sidecar of ours
            raise

    def _open(self, path: str, busy_timeout: float, create: bool) -> None:
        target = path if create or path == ":memory:" else f"file:{quote(path)}?mode=rw"
        self._db = sqlite3.connect(
            target,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout,
            cached_statements=256,
            uri=target is not path,
        )
        # Small pages for a new database: a WAL commit writes every page it touched in full, and the
        # hot path (one emit = one commit of a ~100-byte row and its index entries) touches 3-4 pages:
        # 1 KiB pages make that commit about 1.5x faster than the 4 KiB default (bench/, docs).
        # Under the gate: two processes turning one new file into WAL at once would each hold a shared
        # lock and ask for an exclusive one, and SQLite answers one of them "database is locked" at
        # once, without waiting (its deadlock rule). The gate lets one convert; the next finds WAL.
        with self._gate:
            self._db.execute("PRAGMA page_size = 1024")
            self._db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives a crash of any process; only a power loss or OS crash
        # can take back the last transactions. FULL (CONVEYOR_SQLITE_SYNCHRONOUS=FULL) fsyncs every commit.
        self._db.execute(f"PRAGMA synchronous = {_synchronous()}")
        self._db.execute("PRAGMA foreign_keys = OFF")
        self._db.execute("PRAGMA temp_store = MEMORY")
        self._migrate()

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        steps = migrations("sqlite")
        latest = steps[-1][0]
        if self._db.execute("PRAGMA user_version").fetchone()[0] == latest:
            return  # up to date: no need to wait for the write lock
        with self._write(announce=False) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > latest:
                raise StoreVersionError(
                    f"{self.url}: the database has schema version {version}, newer than this Conveyor "
                    f"knows ({latest}); upgrade Conveyor to use it"
                )
            for number, _name, sql in steps:
                if number > version:
                    for statement in _statements(sql):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _write(self, announce: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction. ``announce``: if it changed any row, tell idle runners elsewhere once it
        has committed that something may be due (``WriterGate.announce``). Transitions that never make
        a message due (a runner's claims, acks and heartbeats, cancel, purge) do not."""
        with self._lock, self._gate:
            db = self._db
            changes = db.total_changes
            self._begin_immediate(db)
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            if announce and db.total_changes != changes:
                self._gate.announce()

    def _begin_immediate(self, db: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting out another writer in short steps. SQLite's own busy handler
        sleeps 1, 2, 5, 10 ms…, far longer than a write transaction here holds the lock, and those
        sleeps would dominate a runner's wake-up latency and the throughput of runners sharing a file."""
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        deadline = time.monotonic() + self._busy_timeout
        db.execute("PRAGMA busy_timeout = 0")
        try:
            for step in itertools.count():
                time.sleep(_BUSY_STEPS[step] if step < len(_BUSY_STEPS) else _BUSY_STEPS[-1])
                try:
                    db.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if not _busy(error) or time.monotonic() >= deadline:
                        raise
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    # -- the message's life ----------------------------------------------------------------------
    def enqueue(self, messages: Sequence[NewMessage], conn: Any = None) -> list[int]:
        if conn is not None:
            raise ValueError(
                "emit(conn=...) enqueues inside a caller's PostgreSQL transaction; "
                "the SQLite store has no such connection"
            )
        now = time.time()
        if len(messages) == 1 and messages[0].key is None:
            m = messages[0]  # the hot path: one autocommitted INSERT
            with self._lock, self._gate:
                cursor = self._db.execute(self._q.enqueue, m.row(now))
                self._gate.announce()
                return [cursor.lastrowid]  # type: ignore[list-item]
        ids: list[int] = []
        with self._write() as db:
            for m in messages:
                if m.key is None:
                    cursor = db.execute(self._q.enqueue, m.row(now))
                    ids.append(cursor.lastrowid)  # type: ignore[arg-type]
                    continue
                row = db.execute(self._q.enqueue_keyed, (*m.row(now), m.key)).fetchone()
                if row is None:
                    row = db.execute(self._q.find_key, (m.worker, m.key)).fetchone()
                ids.append(row[0])
        return ids

    def enqueue_nowait(self, message: NewMessage) -> int | None:
        """The one-INSERT hot path of ``enqueue``, taken only if the store and the writer gate are free,
        on a connection of its own whose busy timeout is 0 and whose commits skip the WAL checkpoint (it
        syncs the database file). Every ``_NOWAIT_RUN``-th call answers None, so that a write through
        ``enqueue`` on a thread checkpoints as usual when the WAL has grown."""
        self._nowait_run += 1
        if self._nowait_run >= _NOWAIT_RUN:
            self._nowait_run = 0
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not self._gate.try_enter():
                return None
            try:
                db = self._nowait_db or self._open_nowait()
                if db is None:
                    return None
                try:
                    cursor = db.execute(self._q.enqueue, message.row(time.time()))
                except sqlite3.OperationalError as error:
                    if _busy(error):
                        return None
                    raise
                self._gate.announce()
                return cursor.lastrowid
            finally:
                self._gate.__exit__()
        finally:
            self._lock.release()

    def _open_nowait(self) -> sqlite3.Connection | None:
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            self._nowait_db = self._db  # one connection of this process: nothing else to wait on
            return self._db
        if self._gate.path is None:
            return None  # no gate (a read-only folder): other writers are not ordered; always the thread
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute(f"PRAGMA synchronous = {_synchronous()}")
        self._nowait_db = db
        return db

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
        with self._write(announce=False) as db:
            rows = self._claim_in(db, runner, limits, limit, lease, rates=rates)
        return _claimed(rows)

    def settle_and_claim(
        self,
        runner: str,
        batch: Settlement,
        limits: Mapping[str, int | None],
        limit: int,
        lease: float,
        *,
        rates: Mapping[str, Rate] | None = None,
    ) -> list[Claimed]:
        """``settle`` then ``claim`` in one transaction: one commit per runner turn, and pages that both
        touch are written to the WAL once."""
        with self._write(announce=batch.due_again()) as db:
            if batch:
                self._settle_in(db, runner, batch)
            rows = (
                self._claim_in(db, runner, limits, limit, lease, rates=rates) if limits and limit > 0 else []
            )
        if batch.results:
            self._ring_results()
        return _claimed(rows)

    def _claim_in(
        self,
        db: sqlite3.Connection,
        runner: str,
        limits: Mapping[str, int | None],
        limit: int,
        lease: float,
        *,
        rates: Mapping[str, Rate] | None,
    ) -> list[Any]:
        now = time.time()
        params: dict[str, Any] = {
            "limit": limit,
            "per_worker": self._spread.per_worker(runner, limit),
            "now": now,
            "runner": runner,
            "lease": lease,
        }
        if rates:  # rate-limited workers: their bucket bounds their room (claim.sql), moved on below
            params["limits"] = orjson.dumps(limits).decode()
            params["paced"] = rooms(db, self._q, rates, now)
            rows = db.execute(self._q.claim, params).fetchall()
            advance(db, self._q, rates, (row[1] for row in rows), now)
        elif all(cap is None for cap in limits.values()):  # no cap to count against: a simpler statement
            params["workers"] = orjson.dumps(list(limits)).decode()
            rows = db.execute(self._q.claim_uncapped, params).fetchall()
        else:
            params["limits"] = orjson.dumps(limits).decode()
            params["paced"] = "{}"
            rows = db.execute(self._q.claim, params).fetchall()
        self._spread.observe(runner, (row[1] for row in rows))
        tally = Tally()
        tally.move((row[1] for row in rows), "queued", "running")
        tally.apply(db, self._q.count_add)
        return rows

    def settle(self, runner: str, batch: Settlement) -> None:
        if not batch:
            return
        with self._write(announce=batch.due_again()) as db:
            self._settle_in(db, runner, batch)
        if batch.results:
            self._ring_results()

    def _settle_in(self, db: sqlite3.Connection, runner: str, batch: Settlement) -> None:
        now = time.time()
        q = self._q
        tally = Tally()
        if batch.complete:
            db.execute(q.raise_id_floor)
            for worker, state in db.execute(q.complete, (orjson.dumps(batch.complete).decode(),)):
                tally.add(worker, state, -1)
        for i, delay, error in batch.retry:
            params = {"id": i, "delay": delay, "error": error, "now": now, "runner": runner}
            tally.move(_first(db.execute(q.retry, params)), "running", "queued")
        for i, delay in batch.incomplete:
            params = {"id": i, "delay": delay, "now": now, "runner": runner}
            tally.move(_first(db.execute(q.incomplete, params)), "running", "queued")
        for i, attempt, error in batch.bury:
            params = {"id": i, "attempt": attempt, "error": error, "runner": runner}
            tally.move(_first(db.execute(q.bury, params)), "running", "dead")
        for i in batch.release:
            tally.move(_first(db.execute(q.release, {"id": i, "runner": runner})), "running", "queued")
        tally.apply(db, q.count_add)
        if batch.results:
            self._keep_results(db, batch.results, now)
        if batch.grouped:
            self._leave_groups(db, batch.grouped, now)
        if batch.traces:
            kept = _kept_traces(batch)
            db.executemany(
                q.insert_trace,
                [
                    {
                        "message_id": t.message_id,
                        "worker": t.worker,
                        "outcome": t.outcome,
                        "event": t.event,
                        "result": t.result,
                        "error": t.error,
                        "traceback": t.traceback,
                        "logs": orjson.dumps(t.logs).decode(),
                        "emitted": orjson.dumps(t.emitted).decode(),
                        "attempt": t.attempt,
                        "enqueued_at": t.enqueued_at,
                        "started_at": t.started_at,
                        "finished_at": t.finished_at,
                    }
                    for t in kept
                ],
            )
            keep = {t.worker: t.keep for t in batch.traces}
            db.executemany(q.prune_traces, [{"worker": w, "keep": k} for w, k in keep.items()])

    def heartbeat(self, runner: str, workers: Sequence[str], lease: float) -> None:
        now = time.time()
        with self._write(announce=False) as db:
            db.execute(self._q.heartbeat, {"now": now, "lease": lease, "runner": runner})
            db.execute(
                self._q.upsert_runner,
                {"runner": runner, "workers": orjson.dumps(list(workers)).decode(), "now": now},
            )

    def rescue(self) -> int:
        now = time.time()
        with self._write() as db:
            db.execute(self._q.trace_lost, {"now": now})  # the same messages rescue.sql moves, first
            return self._moved(db, db.execute(self._q.rescue, {"now": now}), "running", "queued")

    def leave(self, runner: str) -> None:
        with self._write(announce=False) as db:
            db.execute(self._q.delete_runner, (runner,))

    # -- rules -----------------------------------------------------------------------------------
    def set_paused(self, worker: str, paused: bool) -> None:
        with self._write() as db:
            db.execute(self._q.set_paused, {"worker": worker, "paused": paused, "now": time.time()})

    def set_blocked(self, worker: str, reason: str | None) -> None:
        with self._write() as db:
            db.execute(self._q.set_blocked, {"worker": worker, "blocked": reason, "now": time.time()})

    def loop_count(self, root_id: int, worker: str, cap: int) -> int:
        with self._lock:
            row = self._db.execute(self._q.loop_count, {"root": root_id, "worker": worker, "cap": cap})
            return int(row.fetchone()[0])

    def next_due(self, workers: Sequence[str], margin: float) -> float | None:
        now = time.time()
        params = {"workers": orjson.dumps(list(workers)).decode(), "now": now, "since": now - margin}
        with self._lock:
            row = self._db.execute(self._q.next_due, params).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- operator actions ------------------------------------------------------------------------
    def cancel(self, message_id: int) -> bool:
        fired: list[int] = []
        with self._write(announce=False) as db:
            db.execute(self._q.raise_id_floor)
            cancelled = self._moved(db, db.execute(self._q.cancel, (message_id,)), "queued", None) > 0
            if cancelled:  # a member of a group leaves it; the last one emits the group's then message
                fired = self._leave_groups(db, [message_id], time.time())
        if fired:
            self._gate.announce()
        return cancelled

    def purge(self, worker: str) -> int:
        fired: list[int] = []
        with self._write(announce=False) as db:
            db.execute(self._q.raise_id_floor)
            members = [i for (i,) in db.execute(self._q.group_queued, (worker,))]
            purged: int = db.execute(self._q.purge, (worker,)).rowcount
            tally = Tally()
            tally.add(worker, "queued", -purged)
            tally.apply(db, self._q.count_add)
            if members:  # they leave their groups; the last one of a group emits its then message
                fired = self._leave_groups(db, members, time.time())
        if fired:
            self._gate.announce()
        return purged

    def retry_dead(self, message_id: int | None, worker: str | None) -> int:
        with self._write() as db:
            params = {"id": message_id, "worker": worker, "now": time.time()}
            return self._moved(db, db.execute(self._q.retry_dead, params), "dead", "queued")

    def discard_dead(self, message_id: int | None, worker: str | None) -> int:
        with self._write(announce=False) as db:
            db.execute(self._q.raise_id_floor)
            params = {"id": message_id, "worker": worker}
            return self._moved(db, db.execute(self._q.discard_dead, params), "dead", None)

    def _moved(
        self, db: sqlite3.Connection, rows: Iterable[Sequence[Any]], source: str | None, target: str | None
    ) -> int:
        """Count the messages a statement moved (rows starting with their worker); return how many."""
        tally = Tally()
        moved = tally.move(_first(rows), source, target)
        tally.apply(db, self._q.count_add)
        return moved

    def wakeups(self) -> Wakeups:
        """Hints that another connection wrote the database: inotify on Linux, else ``data_version``.

        A write by this store's own connection (a runner's claim or settle) gives no hint."""
        from ._sqlite_wakeups import sqlite_wakeups

        return sqlite_wakeups(self.path, self.changed_elsewhere, self._gate.path)

    def changed_elsewhere(self) -> bool:
        """Whether another connection committed since the last call (``PRAGMA data_version``, a few
        microseconds, no lock). True, without waiting, when the connection is busy in another thread."""
        if not self._lock.acquire(blocking=False):
            return True
        try:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
        finally:
            self._lock.release()
        changed = version != self._data_version
        self._data_version = version
        return bool(changed)

    def close(self) -> None:
        with self._lock:
            if self._nowait_db is not None and self._nowait_db is not self._db:
                self._nowait_db.close()
            self._db.close()
            self._gate.close()
            self._close_results()


def _first(rows: Iterable[Sequence[Any]]) -> Iterator[Any]:
    return (row[0] for row in rows)


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or one of its extended codes (the lock is held by another connection)."""
    return getattr(error, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF == sqlite3.SQLITE_BUSY


def _claimed(rows: list[Any]) -> list[Claimed]:
    return claimed_in_order(rows)


def _kept_traces(batch: Settlement) -> list[Any]:
    """Only the traces the worker will keep: its newest ``keep``, and apart from them its newest failures."""
    seen: dict[str, int] = {}
    failed: dict[str, int] = {}
    kept = []
    for t in reversed(batch.traces):
        if t.keep <= 0:
            continue
        ok = t.outcome == "ok"
        n = seen.get(t.worker, 0)
        f = failed.get(t.worker, 0)
        if n < t.keep or (not ok and f < t.keep):
            kept.append(t)
        seen[t.worker] = n + 1
        if not ok:
            failed[t.worker] = f + 1
    kept.reverse()
    return kept


def _statements(script: str) -> list[str]:
    """Split a migration into statements; SQLite itself says where one ends (triggers hold ';')."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete statement at the end of a migration: {buffer.strip()[:80]}")
    return statements


def _synchronous() -> str:

    value = os.environ.get("CONVEYOR_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"CONVEYOR_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {value!r}")
    return value
