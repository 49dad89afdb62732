"""The SQLite store's rate buckets (migrations/0010_rates.sql, ``_rates.py``): read by a claim in its
write transaction to count what each rate-limited worker may start, and moved on by what it started."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import orjson

from .._rates import Rate
from ._base import RateState
from ._sql import Queries

__all__ = ["SQLiteRates", "advance", "rooms"]


def rooms(db: sqlite3.Connection, q: Queries, rates: Mapping[str, Rate], now: float) -> str:
    """Inside a claim's write transaction: the starts each worker of ``rates`` may make now, as the JSON
    object claim.sql takes as ``:paced``."""
    tats = dict(db.execute(q.rate_buckets, {"workers": orjson.dumps(list(rates)).decode()}).fetchall())
    return orjson.dumps({w: rate.room(tats.get(w), now) for w, rate in rates.items()}).decode()


def advance(
    db: sqlite3.Connection, q: Queries, rates: Mapping[str, Rate], started: Iterable[str], now: float
) -> None:
    """Inside the same transaction: move each bucket on by the messages of its worker the claim started."""
    counts = Counter(w for w in started if w in rates)
    db.executemany(
        q.rate_advance,
        [
            {"worker": w, "n": rates[w].n, "period": rates[w].period, "k": k, "now": now}
            for w, k in counts.items()
        ],
    )


class SQLiteRates:
    """Rate methods of ``SQLiteStore`` that read (a mixin: it uses the store's connection and lock)."""

    _q: Queries
    _db: sqlite3.Connection
    _lock: threading.RLock

    def rate_wait(self, workers: Sequence[str]) -> float | None:
        params = {"workers": orjson.dumps(list(workers)).decode(), "now": time.time()}
        with self._lock:
            (wait,) = self._db.execute(self._q.rate_wait, params).fetchone()
        return None if wait is None else float(wait)

    def rate_states(self) -> list[RateState]:
        with self._lock:
            rows = self._db.execute(self._q.rate_states, {"now": time.time()}).fetchall()
        return [RateState(w, n, period, wait) for w, n, period, wait in rows]
