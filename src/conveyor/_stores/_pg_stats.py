"""The PostgreSQL store's runners and stats (migrations/0011_stats.sql, 0012_stats_totals.sql): stats
rows and the minutes' totals added to with a settle (two statements in its transaction), read for
``app.stats()``, pruned by runners; runner rows written by heartbeats, read for ``app.runners()`` and
forgotten once lost and without running messages."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from .._histogram import decode, encode
from ._base import RunnerInfo, RunnerRow, StatsRow
from ._pg_lane import Conn
from ._pg_url import _Queries
from ._sqlite_stats import merged_stats, minute_totals

__all__ = ["PostgresStats"]


class PostgresStats:
    """Runner and stats methods of ``PostgresStore`` (a mixin: it uses the store's pool)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]

    def _add_stats(self, cur: psycopg.Cursor[tuple[Any, ...]], rows: Sequence[StatsRow]) -> None:
        """Inside a settle's transaction: the (minute, worker) rows, then the minutes' totals."""
        merged = merged_stats(rows)
        cur.execute(self._q.stats_add, _arrays(merged))
        cur.execute(self._q.stats_totals_add, _arrays(minute_totals(merged)))

    @staticmethod
    def _runner_params(info: RunnerInfo | None) -> dict[str, Any]:
        return {
            "host": None if info is None else info.host,
            "pid": None if info is None else info.pid,
            "slots": None if info is None else info.slots,
            "running": [] if info is None else list(info.running),
        }

    def runners(self) -> list[RunnerRow]:
        with self._conn() as conn:
            rows = conn.execute(self._q.runners).fetchall()
        return [
            RunnerRow(
                id=r[0],
                host=r[1],
                pid=r[2],
                workers=list(r[3] or []),
                started_at=float(r[4]),
                seen_at=float(r[5]),
                slots=r[6],
                running=[int(i) for i in r[7] or []],
                age=float(r[8]),
            )
            for r in rows
        ]

    def prune_runners(self, ttl: float) -> int:
        with self._conn() as conn:
            row = conn.execute(self._q.prune_runners, {"ttl": float(ttl)}).fetchone()
        return 0 if row is None else int(row[0])

    def stats(self, worker: str | None, minutes: int) -> list[StatsRow]:
        with self._conn() as conn:
            if worker is None:
                rows = conn.execute(self._q.stats, {"minutes": minutes}).fetchall()
            else:
                rows = conn.execute(self._q.stats_worker, {"worker": worker, "minutes": minutes}).fetchall()
        return [
            StatsRow(w, int(m), p, f, r, d, decode(wait), decode(run)) for w, m, p, f, r, d, wait, run in rows
        ]

    def prune_stats(self, keep: float, limit: int) -> int:
        with self._conn() as conn:
            row = conn.execute(self._q.prune_stats, {"keep": float(keep), "limit": limit}).fetchone()
        return 0 if row is None else int(row[0])


def _arrays(rows: Sequence[StatsRow]) -> dict[str, list[Any]]:
    return {
        "minutes": [r.minute for r in rows],
        "workers": [r.worker for r in rows],
        "processed": [r.processed for r in rows],
        "failed": [r.failed for r in rows],
        "retried": [r.retried for r in rows],
        "dead": [r.dead for r in rows],
        "waits": [encode(r.wait) for r in rows],
        "runs": [encode(r.run) for r in rows],
    }
