"""Counts kept per transaction: the SQLite store adds what one transaction moved to the ``counts`` table
once, at its end."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

__all__ = ["Tally"]


class Tally:
    """Net changes to ``counts`` per (worker, state) made by one transaction's statements, added once at
    its end (count_add.sql; migrations/0005_statement_counts.sql): a claim of 50 messages of one worker
    is two counts writes, not a hundred trigger runs."""

    __slots__ = ("_net",)

    def __init__(self) -> None:
        self._net: dict[tuple[str, str], int] = {}

    def add(self, worker: str, state: str, n: int) -> None:
        key = (worker, state)
        self._net[key] = self._net.get(key, 0) + n

    def move(self, workers: Iterable[str], source: str | None, target: str | None) -> int:
        """Messages of these workers (one name per message) left ``source`` for ``target`` (None: created
        or deleted). Returns how many."""
        per: dict[str, int] = {}
        for name in workers:
            per[name] = per.get(name, 0) + 1
        for name, k in per.items():
            if source is not None:
                self.add(name, source, -k)
            if target is not None:
                self.add(name, target, k)
        return sum(per.values())

    def apply(self, db: sqlite3.Connection, count_add: str) -> None:
        changes = [(w, state, n) for (w, state), n in self._net.items() if n]
        if changes:
            db.executemany(count_add, changes)
