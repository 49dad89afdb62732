"""How many candidates each worker offers to a claim (both stores use it)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

__all__ = ["ClaimSpread"]


class ClaimSpread:
    """Each worker offers at most ``per_worker`` candidates to a claim of ``limit`` messages.

    With one busy worker that is the whole batch. With many busy workers, reading (and on PostgreSQL
    locking) ``limit`` candidates from each would cost workers x limit rows per claim, so each offers
    about twice its share instead, which also shares a batch fairly between workers ("loosely in
    order"). How many workers are busy is learned from the runner's previous claim.
    """

    def __init__(self) -> None:
        self._spread: dict[str, int] = {}
        self._lock = threading.Lock()

    def per_worker(self, runner: str, limit: int) -> int:
        spread = self._spread.get(runner, 1)
        return limit if spread <= 1 else min(limit, max(4, -(-2 * limit // spread)))

    def observe(self, runner: str, workers: Iterable[str]) -> None:
        """Record the workers a claim's rows came from (nothing claimed: keep what was known)."""
        distinct = len(set(workers))
        if distinct:
            with self._lock:
                self._spread[runner] = distinct
