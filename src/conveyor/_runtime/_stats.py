"""Stats on the runner's side (docs/reference.md#runners-and-stats): per minute and worker, the runs
finished, failed and retried, the dead letters made, and histograms of wait and run time, gathered in
memory and handed to a settle every ``FLUSH_EVERY`` seconds (and whenever nothing is running): no
statement or transaction of their own. The pruner plugin removes rows past ``KEEP`` and forgets lost
runners once no message runs under them any more.

Wait time: from when the message fell due (its ``run_at``) to its start; run time: from its start to
its handler's end. Both on the store's clock, as traces record them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from math import log2 as _log2

from .._histogram import LOWEST, STEPS, TOP
from .._stores import Store
from .._stores._base import RUNNER_TTL, StatsRow

__all__ = ["DEAD", "FAILED", "FLUSH_EVERY", "KEEP", "RETRIED", "StatsPruner", "StatsTally"]

log = logging.getLogger("conveyor.runner")

FLUSH_EVERY = 1.0
"""Seconds between two flushes of a busy runner's stats (an idle one flushes at once)."""
KEEP = 25 * 3600.0
"""Seconds stats rows are kept (at least 24 h, as documented)."""
PRUNE_EVERY = 60.0
"""Seconds between two prunes by one runner (±20 %, so that runners spread them)."""
PRUNE_BATCH = 1000
PRUNE_ROUNDS = 20

_SCALE = 1.0 / LOWEST
FAILED = 1
"""``StatsTally.add`` outcome bits: the run failed (an error, a timeout, ``Retry`` or ``Cancel``),"""
RETRIED = 2
"""it goes back for another attempt,"""
DEAD = 4
"""it became a dead letter."""


class StatsTally:
    """This runner's stats since its last flush, per (worker, minute)."""

    __slots__ = ("_cells", "flushed_at", "pending")

    def __init__(self, now: float = 0.0) -> None:
        self._cells: dict[tuple[str, int], StatsRow] = {}
        self.pending = 0
        self.flushed_at = now

    def add(self, worker: str, wait: float, run: float, finished: float, outcome: int = 0) -> None:
        """One finished run. ``outcome``: 0 ok (or sent back by ``Incomplete``), else a sum of
        ``FAILED``, ``RETRIED`` and ``DEAD``."""
        key = (worker, int(finished // 60) * 60)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = StatsRow(worker, key[1])
        cell.processed += 1
        if outcome:
            self._outcome(cell, outcome)
        i = 0 if not wait >= LOWEST else int(_log2(wait * _SCALE) * STEPS) + 1
        if i > TOP:  # noqa: PLR1730 - no call on the hot path
            i = TOP
        h = cell.wait
        h[i] = h.get(i, 0) + 1
        i = 0 if not run >= LOWEST else int(_log2(run * _SCALE) * STEPS) + 1
        if i > TOP:  # noqa: PLR1730 - no call on the hot path
            i = TOP
        h = cell.run
        h[i] = h.get(i, 0) + 1
        self.pending += 1

    def dead_unrun(self, worker: str, finished: float) -> None:
        """A dead letter made without running its handler (its attempts were used up by lost leases)."""
        key = (worker, int(finished // 60) * 60)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = StatsRow(worker, key[1])
        cell.dead += 1
        self.pending += 1

    @staticmethod
    def _outcome(cell: StatsRow, outcome: int) -> None:
        if outcome & FAILED:
            cell.failed += 1
        if outcome & RETRIED:
            cell.retried += 1
        if outcome & DEAD:
            cell.dead += 1

    def due(self, idle: bool, now: float) -> bool:
        return self.pending > 0 and (idle or now - self.flushed_at >= FLUSH_EVERY)

    def take(self, now: float) -> list[StatsRow]:
        rows = list(self._cells.values())
        self._cells.clear()
        self.pending = 0
        self.flushed_at = now
        return rows


class StatsPruner:
    """A runner plugin: every ``PRUNE_EVERY`` seconds, remove stats rows older than ``KEEP`` in bounded
    batches, and forget runners lost for the runner TTL once nothing runs under them."""

    name = "stats-pruner"

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

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every * random.uniform(0.8, 1.2))
            try:
                await asyncio.to_thread(self.turn)
            except Exception:
                log.exception("runner %s: pruning stats failed; trying again later", self.runner_id)

    def stop(self) -> None:
        pass
