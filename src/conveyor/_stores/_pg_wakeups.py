"""PostgreSQL change hints for one runner: LISTEN/NOTIFY on a dedicated connection."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from psycopg import pq

from ._hints import HintWaiter
from ._pg_lane import Conn

__all__ = ["PostgresWakeups"]

log = logging.getLogger("conveyor.store.postgres")


class PostgresWakeups(HintWaiter):
    """Change hints for one runner: LISTEN on a dedicated connection whose socket the event loop watches;
    each notification calls the runner back at once (``on_hint``) and ends a pending ``wait``.

    A lost connection (a database restart) is itself a hint — notifications may have been missed — and
    is re-established on the next ``wait`` with backoff; meanwhile ``wait`` just times out.
    """

    def __init__(self, conninfo: str, listen_sql: str, connect_timeout: float = 10.0) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._listen = listen_sql
        self._connect_timeout = connect_timeout
        self._conn: Conn | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd = -1
        self._failures = 0
        self._closed = False

    def _open(self) -> Conn:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=int(self._connect_timeout))
        conn.execute(self._listen)
        return conn

    async def wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        if self._conn is None:
            if self._closed:
                raise RuntimeError("these wakeups are closed")
            try:
                conn = await loop.run_in_executor(None, self._open)
            except psycopg.Error as error:
                self._failures += 1
                pause = min(timeout, 0.1 * 2 ** min(self._failures, 6))
                log.warning("wakeups: cannot LISTEN (%s); retrying in %.1f s", error, pause)
                await asyncio.sleep(pause)
                return False
            self._conn = conn
            self._loop = loop
            self._fd = conn.fileno()
            loop.add_reader(self._fd, self._readable)
            if self._failures:
                self._failures = 0
                return True  # back after a loss: changes made meanwhile were never announced
        return await self._wait(timeout)

    def _readable(self) -> None:
        """On the loop, when the LISTEN socket has data: read every notification, hint once."""
        conn = self._conn
        if conn is None:
            return
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as error:
            self._lost(error)
            self._hint()
            return
        if pgconn.status != pq.ConnStatus.OK:
            self._lost(None)
            self._hint()
            return
        heard = False
        while pgconn.notifies() is not None:
            heard = True
        if heard:
            self._hint()

    def _unwatch(self) -> None:
        if self._fd >= 0 and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._fd = -1

    def _lost(self, error: Exception | None) -> None:
        log.warning("wakeups: LISTEN connection lost (%s); reconnecting", error or "closed")
        self._failures = 1
        self._unwatch()
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def close(self) -> None:
        self._closed = True
        self._unwatch()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
