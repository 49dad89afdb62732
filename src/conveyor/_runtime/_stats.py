"""Stats on the runner's side (docs/reference.md#runners-and-stats): per minute and worker, the runs
finished, failed and retried, the dead letters made, and histograms of wait and run time, gathered in
memory and handed to a settle every ``FLUSH_EVERY`` seconds (a serving runner turns at least once a
second, busy or idle) and when the runner stops or a drain ends: no transaction of their own. The
pruner plugin removes rows past ``KEEP`` and forgets lost runners once no message runs under them.

Wait time: from when the message fell due (its ``run_at``) to the start of its handler; run time: how
long its handler ran, measured on this host.
"""

from __future__ import annotations

from math import log2 as _log2

from .._histogram import HUGE, LOWEST, SHIFT, STEPS, TOP
from .._stores import Store
from .._stores._base import RUNNER_TTL, StatsRow
from ._periodic import Periodic

__all__ = ["DEAD", "FAILED", "FLUSH_EVERY", "KEEP", "RETRIED", "StatsPruner", "StatsTally"]


FLUSH_EVERY = 5.0
"""Seconds between two flushes of a runner's stats: a row of a busy worker is written by each runner a
dozen times a minute, not with every settle."""
KEEP = 25 * 3600.0
"""Seconds stats rows are kept (at least 24 h, as documented)."""
PRUNE_EVERY = 60.0
"""Seconds between two prunes by one runner (±20 %, so that runners spread them)."""
PRUNE_BATCH = 1000
PRUNE_ROUNDS = 20

FAILED = 1
"""``StatsTally.add`` outcome bits: the run failed (an error, a timeout, ``Retry`` or ``Cancel``),"""
RETRIED = 2
"""it goes back for another attempt,"""
DEAD = 4
"""it became a dead letter."""


class _Cell:
    """One worker's minute in memory: counts, and histograms as lists (one slot per bucket)."""

    __slots__ = ("dead", "failed", "processed", "retried", "run", "wait")

    def __init__(self) -> None:
        self.processed = self.failed = self.retried = self.dead = 0
        self.wait = [0] * (TOP + 1)
        self.run = [0] * (TOP + 1)

    def row(self, worker: str, minute: int) -> StatsRow:
        wait = {i: n for i, n in enumerate(self.wait) if n}
        run = {i: n for i, n in enumerate(self.run) if n}
        return StatsRow(worker, minute, self.processed, self.failed, self.retried, self.dead, wait, run)


class StatsTally:
    """This runner's stats since its last flush, per minute and worker."""

    __slots__ = ("_cells", "_end", "_minutes", "_start", "flushed_at")

    def __init__(self, now: float = 0.0) -> None:
        self._minutes: dict[int, dict[str, _Cell]] = {}
        self._cells: dict[str, _Cell] = {}
        """The cells of the minute from ``_start`` to ``_end`` (where the last run ended)."""
        self._start = 0.0
        self._end = 0.0
        self.flushed_at = now

    @property
    def pending(self) -> bool:
        return bool(self._minutes)

    def add(self, worker: str, wait: float, run: float, finished: float, outcome: int = 0) -> None:
        """One finished run (``finished``: when, on the store's clock). ``outcome``: 0 ok (or sent back by
        ``Incomplete``), else a sum of ``FAILED``, ``RETRIED`` and ``DEAD``."""
        if not self._start <= finished < self._end:
            self._minute(finished)
        cell = self._cells.get(worker)
        if cell is None:
            cell = self._cells[worker] = _Cell()
        cell.processed += 1
        if outcome:
            _outcome(cell, outcome)
        cell.wait[
            int(_log2(wait) * STEPS + SHIFT) if LOWEST <= wait < HUGE else 0 if wait < LOWEST else TOP
        ] += 1
        cell.run[int(_log2(run) * STEPS + SHIFT) if LOWEST <= run < HUGE else 0 if run < LOWEST else TOP] += 1

    def dead_unrun(self, worker: str, finished: float) -> None:
        """A dead letter made without running its handler (its attempts were used up by lost leases)."""
        if not self._start <= finished < self._end:
            self._minute(finished)
        cell = self._cells.get(worker)
        if cell is None:
            cell = self._cells[worker] = _Cell()
        cell.dead += 1

    def _minute(self, at: float) -> None:
        minute = int(at // 60) * 60
        cells = self._minutes.get(minute)
        if cells is None:
            cells = self._minutes[minute] = {}
        self._cells, self._start, self._end = cells, float(minute), float(minute + 60)

    def due(self, now: float) -> bool:
        return bool(self._minutes) and now - self.flushed_at >= FLUSH_EVERY

    def take(self, now: float) -> list[StatsRow]:
        rows = [cell.row(w, m) for m, cells in self._minutes.items() for w, cell in cells.items()]
        self._minutes = {}
        self._cells = {}
        self._start = self._end = 0.0
        self.flushed_at = now
        return rows


def _outcome(cell: _Cell, outcome: int) -> None:
    if outcome & FAILED:
        cell.failed += 1
    if outcome & RETRIED:
        cell.retried += 1
    if outcome & DEAD:
        cell.dead += 1


class StatsPruner(Periodic):
    """A runner plugin: every ``PRUNE_EVERY`` seconds, remove stats rows older than ``KEEP`` in bounded
    batches, and forget runners lost for the runner TTL once nothing runs under them."""

    name = "stats-pruner"
    doing = "pruning stats"

    def __init__(self, store: Store, runner_id: str, every: float = PRUNE_EVERY, keep: float = KEEP) -> None:
        self.store = store
        self.runner_id = runner_id
        self.every = every
        self.keep = keep
        self.removed = 0

    def turn(self) -> int:
        """One prune (blocking). Returns how many stats rows were removed."""
        removed = 0
        for _ in range(PRUNE_ROUNDS):
            n = self.store.prune_stats(self.keep, PRUNE_BATCH)
            removed += n
            if n < PRUNE_BATCH:
                break
        self.store.prune_runners(float(getattr(self.store, "runner_ttl", RUNNER_TTL)))
        self.removed += removed
        return removed
