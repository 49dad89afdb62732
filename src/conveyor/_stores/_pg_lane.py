"""Dedicated PostgreSQL connections for the hot paths, and statements run on them through libpq itself.

A lane is a few autocommit connections kept apart from the pool: handing one out is a queue pop, not
the pool's bookkeeping. A ``Prepared`` statement is prepared by name once per lane connection and then
run with ``PQexecPrepared`` on text parameters: one round trip with no Python-level query conversion,
adaptation or result machinery, which costs a single-row emit about as much as the server's own work on
its rows (docs/benchmarks.md, "Where the time went").
"""

from __future__ import annotations

import itertools
import queue
import re
import select
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.errors import error_from_result

__all__ = ["Conn", "Lane", "Prepared", "broken"]

Conn = psycopg.Connection[tuple[Any, ...]]
_IDLE = pq.TransactionStatus.IDLE
_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
_PLACEHOLDER = re.compile(r"%%|%s")


class Prepared:
    """One of our ``.sql`` queries (``%s`` placeholders, as psycopg takes them), prepared under ``name``
    on a lane connection and run there through libpq. Parameters are text (bytes) or None (NULL); the
    server infers their types from the statement. Lane connections speak UTF-8 (see ``Lane``)."""

    def __init__(self, name: str, sql: str) -> None:
        self.name = name.encode()
        numbers = itertools.count(1)
        numbered = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
        self.text = numbered.encode()

    def prepare(self, conn: Conn) -> None:
        _check(conn, conn.pgconn.prepare(self.name, self.text))

    def run(self, conn: Conn, params: Sequence[bytes | None]) -> pq.abc.PGresult:
        """Run it (the GIL is released while libpq waits); a failure raises psycopg's error class for
        its SQLSTATE, as ``cursor.execute`` would."""
        # libpq takes None for NULL, as psycopg itself passes it; the stub's type leaves None out.
        return _check(conn, conn.pgconn.exec_prepared(self.name, params))  # type: ignore[arg-type]


def _check(conn: Conn, result: pq.abc.PGresult) -> pq.abc.PGresult:
    if result.status not in _OK:
        raise error_from_result(result, encoding=conn.info.encoding)
    return result


class Lane:
    """A few dedicated autocommit connections, handed out without the pool's bookkeeping (one statement
    is one round trip). ``get`` returns None when all ``size`` are busy, and the caller uses the pool. A
    connection the server dropped is never handed out.

    Each new connection runs ``session`` (SET statements for its whole session) and prepares
    ``prepared``; a lane with prepared statements makes its connections speak UTF-8, the encoding of
    their text parameters."""

    def __init__(
        self,
        connect: Callable[[], Conn],
        size: int,
        session: str | None = None,
        prepared: Sequence[Prepared] = (),
    ) -> None:
        self._connect = connect
        self._size = size
        self._session = session
        self._prepared = tuple(prepared)
        self._idle: queue.SimpleQueue[Conn] = queue.SimpleQueue()
        self._count = 0
        self._lock = threading.Lock()
        self.closed = False

    def get(self) -> Conn | None:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            if not broken(conn):
                return conn
            self.drop(conn)
        with self._lock:
            if self._count >= self._size:
                return None
            self._count += 1
        try:
            conn = self._connect()
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        try:
            if self._prepared and conn.info.encoding != "utf-8":
                conn.execute("SET client_encoding = 'UTF8'")
            if self._session:
                conn.execute(self._session)
            for statement in self._prepared:
                statement.prepare(conn)
        except BaseException:
            self.drop(conn)  # not left open for the garbage collector
            raise
        return conn

    def put(self, conn: Conn) -> None:
        if self.closed or conn.pgconn.transaction_status != _IDLE:
            self.drop(conn)
        else:
            self._idle.put(conn)

    def drop(self, conn: Conn) -> None:
        with self._lock:
            self._count -= 1
        conn.close()

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            conn.close()


def broken(conn: Conn) -> bool:
    """True if an idle connection must not be used: closed, or the server sent something unasked. Our
    idle connections LISTEN to nothing, so that only happens when the server ends the session (a
    restart, pg_terminate_backend): one zero-timeout poll of the socket, no round trip."""
    if conn.closed:
        return True
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return True
    return bool(readable) or conn.pgconn.status != pq.ConnStatus.OK
