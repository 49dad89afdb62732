"""The SQLite store's reads for people and faces: counts, unknown workers, live runners' workers,
messages, one message and traces (a mixin of ``SQLiteStore``: its connection and lock)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence

import orjson

from .._message import Message, State, Trace, UnknownWorker
from . import _rows
from ._base import RUNNER_TTL, StoreCounts
from ._browse import Browsed, browse_params, ordered, page_of
from ._series import Point, points
from ._sql import Queries

__all__ = ["SQLiteReads"]


class SQLiteReads:
    """Read methods of ``SQLiteStore``."""

    _q: Queries
    _db: sqlite3.Connection
    _lock: threading.RLock

    def counts(self) -> list[StoreCounts]:
        with self._lock:
            rows = self._db.execute(self._q.counts, {"now": time.time()}).fetchall()
            rules = {w: (bool(p), b) for w, p, b in self._db.execute(self._q.rules)}
        out = [StoreCounts(w, q, s, r, d, *rules.pop(w, (False, None))) for w, q, s, r, d in rows]
        out.extend(StoreCounts(w, 0, 0, 0, 0, p, b) for w, (p, b) in rules.items())
        return out

    def unknown(self, defined: Sequence[str]) -> list[UnknownWorker]:
        with self._lock:
            rows = self._db.execute(
                self._q.unknown, {"defined": orjson.dumps(list(defined)).decode()}
            ).fetchall()
        return _rows.unknown(rows)

    def live_workers(self) -> set[str]:
        with self._lock:
            rows = self._db.execute(self._q.live_workers, (time.time() - RUNNER_TTL,))
            return {w for (w,) in rows}

    def messages(self, worker: str | None, state: State | None, limit: int) -> list[Message]:
        now = time.time()
        with self._lock:
            rows = self._db.execute(
                self._q.messages, {"worker": worker, "state": state, "now": now, "limit": limit}
            ).fetchall()
        return _rows.messages(rows, now)

    def message(self, message_id: int) -> Message | None:
        now = time.time()
        with self._lock:
            rows = self._db.execute(self._q.message, (message_id,)).fetchall()
        found = _rows.messages(rows, now)
        return found[0] if found else None

    def stats_series(self, worker: str | None, since: int, until: int, step: int) -> dict[int, Point]:
        params = {"worker": worker, "since": since, "until": until, "step": step}
        with self._lock:
            query = self._q.stats_series if worker is None else self._q.stats_series_worker
            rows = self._db.execute(query, params).fetchall()
        return points(rows)

    def stats_sums(self, since: int, until: int) -> list[tuple[int, str, int, int]]:
        with self._lock:
            rows = self._db.execute(self._q.stats_sums, {"since": since, "until": until}).fetchall()
        return rows  # (INTEGER, TEXT, INTEGER, INTEGER) columns: already ints and strs

    def browse(
        self,
        worker: str,
        state: State,
        after: tuple[float, int] | None,
        *,
        text: str | None,
        limit: int,
        scan: int,
    ) -> Browsed:
        now = time.time()
        query, params = browse_params(worker, state, after, text=text, scan=scan, now=now)
        with self._lock:
            rows = self._db.execute(getattr(self._q, query), params).fetchall()
            ids, following = page_of(rows, limit, scan)
            found = self._db.execute(self._q.browse_rows, {"ids": orjson.dumps(ids).decode()}).fetchall()
        return Browsed(ordered(_rows.messages(found, now), ids), following, len(rows))

    def traces(self, worker: str) -> list[Trace]:
        with self._lock:
            rows = self._db.execute(self._q.traces, (worker,)).fetchall()
        return _rows.traces(rows)
