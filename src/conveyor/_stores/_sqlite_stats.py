"""The SQLite store's runners and stats (migrations/0013_stats.sql, 0014_stats_totals.sql): stats rows
and the minutes' totals added to with a settle, read for ``app.stats()``, pruned by runners; runner
rows written by heartbeats, read for ``app.runners()`` and forgotten once lost and without running
messages."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from .._histogram import decode, encode
from ._base import RunnerInfo, RunnerRow, StatsRow
from ._sql import Queries

__all__ = ["SQLiteStats", "merged_stats", "minute_totals"]


class SQLiteStats:
    """Runner and stats methods of ``SQLiteStore`` (a mixin: it uses the store's connection and lock)."""

    _q: Queries
    _db: sqlite3.Connection
    _lock: threading.RLock
    _write: Callable[..., AbstractContextManager[sqlite3.Connection]]

    def _add_stats(self, db: sqlite3.Connection, rows: Sequence[StatsRow]) -> None:
        """Inside a settle's transaction: the (minute, worker) rows, then the minutes' totals."""
        merged = merged_stats(rows)
        db.executemany(self._q.stats_add, [_params(r) for r in merged])
        db.executemany(self._q.stats_totals_add, [_params(r) for r in minute_totals(merged)])

    def _runner_params(self, runner: str, workers: Sequence[str], now: float, info: RunnerInfo | None) -> Any:
        return {
            "runner": runner,
            "workers": orjson.dumps(list(workers)).decode(),
            "now": now,
            "host": None if info is None else info.host,
            "pid": None if info is None else info.pid,
            "slots": None if info is None else info.slots,
            "running": "[]" if info is None else orjson.dumps(info.running).decode(),
        }

    def runners(self) -> list[RunnerRow]:
        with self._lock:
            rows = self._db.execute(self._q.runners, {"now": time.time()}).fetchall()
        return [
            RunnerRow(
                id=r[0],
                host=r[1],
                pid=r[2],
                workers=_list(r[3]),
                started_at=float(r[4]),
                seen_at=float(r[5]),
                slots=r[6],
                running=[int(i) for i in _list(r[7])],
                age=float(r[8]),
            )
            for r in rows
        ]

    def prune_runners(self, ttl: float) -> int:
        with self._write(announce=False) as db:
            return int(db.execute(self._q.prune_runners, {"before": time.time() - ttl}).rowcount)

    def stats(self, worker: str | None, minutes: int) -> list[StatsRow]:
        since = (int(time.time()) // 60 - minutes + 1) * 60
        with self._lock:
            if worker is None:
                rows = self._db.execute(self._q.stats, {"since": since}).fetchall()
            else:
                rows = self._db.execute(self._q.stats_worker, {"worker": worker, "since": since}).fetchall()
        return [
            StatsRow(w, int(m), p, f, r, d, decode(wait), decode(run)) for w, m, p, f, r, d, wait, run in rows
        ]

    def prune_stats(self, keep: float, limit: int) -> int:
        with self._write(announce=False) as db:
            params = {"before": time.time() - keep, "limit": limit}
            removed = int(db.execute(self._q.prune_stats, params).rowcount)
            return removed + int(db.execute(self._q.prune_stats_totals, params).rowcount)


def _params(r: StatsRow) -> dict[str, Any]:
    return {
        "minute": r.minute,
        "worker": r.worker,
        "processed": r.processed,
        "failed": r.failed,
        "retried": r.retried,
        "dead": r.dead,
        "wait": encode(r.wait),
        "run": encode(r.run),
    }


def merged_stats(rows: Sequence[StatsRow]) -> list[StatsRow]:
    """``rows`` with those of one (minute, worker) added into one, in (minute, worker) order."""
    out: dict[tuple[int, str], StatsRow] = {}
    for r in rows:
        key = (r.minute, r.worker)
        have = out.get(key)
        if have is None:
            out[key] = StatsRow(
                r.worker, r.minute, r.processed, r.failed, r.retried, r.dead, dict(r.wait), dict(r.run)
            )
            continue
        have.processed += r.processed
        have.failed += r.failed
        have.retried += r.retried
        have.dead += r.dead
        for mine, theirs in ((have.wait, r.wait), (have.run, r.run)):
            for i, n in theirs.items():
                mine[i] = mine.get(i, 0) + n
    return [out[k] for k in sorted(out)]


def minute_totals(merged: Sequence[StatsRow]) -> list[StatsRow]:
    """Per minute of ``merged`` (``merged_stats``' output), its rows added into one (worker ``""``), in
    minute order."""
    out: list[StatsRow] = []
    for r in merged:
        if not out or out[-1].minute != r.minute:
            out.append(
                StatsRow("", r.minute, r.processed, r.failed, r.retried, r.dead, dict(r.wait), dict(r.run))
            )
            continue
        have = out[-1]
        have.processed += r.processed
        have.failed += r.failed
        have.retried += r.retried
        have.dead += r.dead
        for mine, theirs in ((have.wait, r.wait), (have.run, r.run)):
            for i, n in theirs.items():
                mine[i] = mine.get(i, 0) + n
    return out


def _list(text: Any) -> list[Any]:
    if text is None:
        return []
    value = orjson.loads(text) if isinstance(text, str | bytes) else text
    return list(value) if isinstance(value, list) else []
