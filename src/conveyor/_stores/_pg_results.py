"""The PostgreSQL store's results (migrations/0009_results.sql): outcomes kept with the settle that
finishes their message, read by waiters and pruned by runners. A settle that kept outcomes sends a
NOTIFY on the results channel (``<channel>:r``) in its transaction: waiters on every host hear of it on
commit, and idle runners, listening on the main channel, are not woken by it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from ._base import ResultRecord, ResultRow
from ._pg_lane import Conn
from ._pg_url import _Queries
from ._pg_wakeups import PostgresWakeups

__all__ = ["PostgresResults"]


class PostgresResults:
    """Result methods of ``PostgresStore`` (a mixin: it uses the store's pool)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]
    conninfo: str
    _connect_timeout: float

    def _keep_results(self, cur: psycopg.Cursor[tuple[Any, ...]], records: Sequence[ResultRecord]) -> None:
        """Inside a settle's transaction."""
        cur.execute(
            self._q.insert_result,
            {
                "ids": [r.message_id for r in records],
                "workers": [r.worker for r in records],
                "outcomes": [r.outcome for r in records],
                "values": [r.value for r in records],
                "reprs": [r.is_repr for r in records],
                "errors": [r.error for r in records],
                "keeps": [float(r.keep) for r in records],
            },
        )
        cur.execute(self._q.notify_results)

    def results(self, message_ids: Sequence[int]) -> list[ResultRow]:
        with self._conn() as conn:
            rows = conn.execute(self._q.results, {"ids": list(message_ids)}).fetchall()
        return [
            ResultRow(int(i), state, last, outcome, value, bool(rep), err, None if at is None else float(at))
            for i, state, last, outcome, value, rep, err, at in rows
        ]

    def prune_results(self, limit: int) -> int:
        with self._conn() as conn:
            row = conn.execute(self._q.prune_results, {"limit": limit}).fetchone()
        return 0 if row is None else int(row[0])

    def result_wakeups(self) -> PostgresWakeups:
        return PostgresWakeups(self.conninfo, self._q.listen_results, self._connect_timeout)
