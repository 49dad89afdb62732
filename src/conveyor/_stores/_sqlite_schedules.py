"""The SQLite store's schedule tables (migrations/0007_schedules.sql): published definitions, state,
and the exactly-once tick records written in the same transaction as the tick's message."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ._base import DueTicks, ScheduleDef, ScheduleState
from ._sql import Queries

__all__ = ["TICK_RECORDS_KEPT", "SQLiteSchedules"]

TICK_RECORDS_KEPT = 86_400.0
"""Seconds of tick records kept behind a schedule's newest tick (no ticker tries one older than it)."""


class SQLiteSchedules:
    """Schedule methods of ``SQLiteStore`` (a mixin: it uses the store's connection and write lock)."""

    _q: Queries
    _db: sqlite3.Connection
    _lock: threading.RLock
    _write: Callable[..., AbstractContextManager[sqlite3.Connection]]
    runner_ttl: float

    def publish_schedules(self, runner: str, schedules: Sequence[ScheduleDef]) -> None:
        now = time.time()
        with self._write(announce=False) as db:
            db.execute(self._q.schedule_forget_stale, (now - self.runner_ttl,))
            db.executemany(
                self._q.schedule_publish,
                [
                    {
                        "runner": runner,
                        "name": d.name,
                        "worker": d.worker,
                        "cron": d.cron,
                        "every": d.every,
                        "tz": d.tz,
                        "misfire": d.misfire,
                        "now": now,
                    }
                    for d in schedules
                ],
            )
            db.executemany(self._q.schedule_known, [{"name": d.name, "now": now} for d in schedules])

    def unpublish_schedules(self, runner: str) -> None:
        with self._write(announce=False) as db:
            db.execute(self._q.schedule_unpublish, (runner,))

    def live_schedules(self) -> list[ScheduleDef]:
        with self._lock:
            rows = self._db.execute(self._q.schedule_live, (time.time() - self.runner_ttl,)).fetchall()
        return _first_of_each(rows)

    def schedule_states(self) -> list[ScheduleState]:
        with self._lock:
            rows = self._db.execute(self._q.schedule_states).fetchall()
        return [ScheduleState(n, bool(p), last, since) for n, p, last, since in rows]

    def set_schedule_paused(self, name: str, paused: bool) -> None:
        with self._write(announce=False) as db:
            db.execute(self._q.schedule_set_paused, {"name": name, "paused": paused, "now": time.time()})

    def emit_ticks(self, due: Sequence[DueTicks]) -> list[int]:
        q = self._q
        ids: list[int] = []
        with self._write(announce=any(d.ticks for d in due)) as db:
            now = time.time()
            for d in due:
                row = db.execute(q.schedule_state, (d.name,)).fetchone()
                if row is None or row[0]:
                    continue
                last = row[1]
                for tick, m in d.ticks:
                    if last is not None and tick <= last:
                        continue
                    if db.execute(q.schedule_tick, (d.name, tick)).fetchone() is None:
                        continue
                    params: tuple[Any, ...] = (
                        m.worker,
                        m.event,
                        now,
                        now + m.delay,
                        None,
                        None,
                        None,
                        False,
                        m.priority,
                    )
                    found = db.execute(q.enqueue_keyed, (*params, m.key)).fetchone()
                    if found is None:
                        found = db.execute(q.find_key, (m.worker, m.key)).fetchone()
                    ids.append(int(found[0]))
                db.execute(q.schedule_advance, {"name": d.name, "upto": d.upto, "now": now})
                db.execute(q.schedule_prune_ticks, (d.name, d.upto - TICK_RECORDS_KEPT))
        return ids


def _first_of_each(rows: Sequence[Sequence[Any]]) -> list[ScheduleDef]:
    """One definition per name: the first row of each (the queries order the newest first)."""
    out: dict[str, ScheduleDef] = {}
    for name, worker, cron, every, tz, misfire in rows:
        if name not in out:
            out[name] = ScheduleDef(name, worker, cron, None if every is None else float(every), tz, misfire)
    return list(out.values())
