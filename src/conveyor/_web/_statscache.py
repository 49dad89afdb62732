"""What the dashboard has read of the stats, kept for the minutes that no longer change.

Runners add to a minute's stats for a little while after it ends (they flush a few times a minute), so
a minute more than ``SETTLED`` seconds old is final. Its sums and chart points are read once and kept;
each page and live tick reads only the minutes since (a few rows per worker), however long the range
and however many workers. What falls out of the longest range is dropped. One cache per web app.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from .._stores._series import Point
from ._charts import since, step_of

if TYPE_CHECKING:
    from .._stores import Store

__all__ = ["SETTLED", "StatsCache"]

SETTLED = 120  # seconds after which a minute's stats are final
DAY = 1440


class StatsCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sums: dict[
            int, dict[str, tuple[int, int]]
        ] = {}  # closed minute -> worker -> (processed, failed)
        self._sums_until = 0  # minutes before this are in _sums
        self._sums_added: tuple[int, int, dict[str, tuple[int, int]]] = (0, 0, {})  # (first, closed, sums)
        self._series: dict[tuple[str | None, int], tuple[int, dict[int, Point]]] = {}

    @staticmethod
    def _closed(step: int, now: float) -> int:
        return int(now - SETTLED) // step * step

    def sums(self, store: Store, minutes: int, now: float | None = None) -> dict[str, tuple[int, int]]:
        """Per worker, the runs finished and failed over the last ``minutes`` minutes."""
        now = time.time() if now is None else now
        first, closed = since(minutes, now), self._closed(60, now)
        with self._lock:
            start = max(first, self._sums_until)
            if start < closed:
                sums = self._sums
                for minute, worker, processed, failed in store.stats_sums(start, closed):
                    into = sums.get(minute)
                    if into is None:
                        into = sums[minute] = {}
                    into[worker] = (processed, failed)
                self._sums_until = closed
            for minute in [m for m in self._sums if m < since(DAY, now)]:
                del self._sums[minute]
            if self._sums_added[:2] != (first, closed):  # added up once a minute, as the window moves
                added: dict[str, tuple[int, int]] = {}
                for minute, rows in self._sums.items():
                    if first <= minute < closed:
                        for worker, (p, f) in rows.items():
                            q, g = added.get(worker, (0, 0))
                            added[worker] = (q + p, g + f)
                self._sums_added = (first, closed, added)
            out = dict(self._sums_added[2])
        for _, worker, p, f in store.stats_sums(max(first, closed), 2**62):
            q, g = out.get(worker, (0, 0))
            out[worker] = (q + p, g + f)
        return out

    def series(
        self, store: Store, worker: str | None, minutes: int, now: float | None = None
    ) -> dict[int, Point]:
        """The chart points of one worker (None: all) over the last ``minutes`` minutes, by step."""
        now = time.time() if now is None else now
        step = step_of(minutes)
        first, closed = since(minutes, now) // step * step, self._closed(step, now)
        with self._lock:
            until, kept = self._series.get((worker, step), (first, {}))
            start = max(first, until)
            if start < closed:
                kept = {**kept, **store.stats_series(worker, start, closed, step)}
                until = closed
            kept = {at: p for at, p in kept.items() if at >= since(DAY, now) // step * step}
            self._series[(worker, step)] = (max(until, first), kept)
        fresh = store.stats_series(worker, max(first, closed), 2**62, step)
        return {**{at: p for at, p in kept.items() if at >= first}, **fresh}
