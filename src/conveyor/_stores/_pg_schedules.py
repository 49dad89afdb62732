"""The PostgreSQL store's schedule tables (migrations/0005_schedules.sql): published definitions, state,
and the exactly-once tick records written in the same transaction as the tick's message.

A tick's transaction first locks the schedule's state row (``FOR UPDATE``), so tickers of one schedule
on every host emit one after the other; the unique (schedule, tick) record makes a tick emitted twice
impossible even so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from ._base import DueTicks, NewMessage, ScheduleDef, ScheduleState
from ._pg_lane import Conn
from ._pg_url import _Queries
from ._sqlite_schedules import TICK_RECORDS_KEPT, _first_of_each

__all__ = ["PostgresSchedules"]


class PostgresSchedules:
    """Schedule methods of ``PostgresStore`` (a mixin: it uses the store's pool and enqueue)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]
    _enqueue_in: Callable[[Conn, Sequence[NewMessage]], list[int]]
    runner_ttl: float

    def publish_schedules(self, runner: str, schedules: Sequence[ScheduleDef]) -> None:
        params = {
            "runner": runner,
            "names": [d.name for d in schedules],
            "workers": [d.worker for d in schedules],
            "crons": [d.cron for d in schedules],
            "everys": [d.every for d in schedules],
            "tzs": [d.tz for d in schedules],
            "misfires": [d.misfire for d in schedules],
        }
        with self._conn() as conn, conn.pipeline(), conn.transaction():
            conn.execute(self._q.schedule_forget_stale, (self.runner_ttl,))
            conn.execute(self._q.schedule_publish, params)
            conn.execute(self._q.schedule_known, params)

    def unpublish_schedules(self, runner: str) -> None:
        with self._conn() as conn:
            conn.execute(self._q.schedule_unpublish, (runner,))

    def live_schedules(self) -> list[ScheduleDef]:
        with self._conn() as conn:
            rows = conn.execute(self._q.schedule_live, (self.runner_ttl,)).fetchall()
        return _first_of_each(rows)

    def schedule_states(self) -> list[ScheduleState]:
        with self._conn() as conn:
            rows = conn.execute(self._q.schedule_states).fetchall()
        return [ScheduleState(n, bool(p), last, since) for n, p, last, since in rows]

    def set_schedule_paused(self, name: str, paused: bool) -> None:
        with self._conn() as conn:
            conn.execute(self._q.schedule_set_paused, {"name": name, "paused": paused})

    def emit_ticks(self, due: Sequence[DueTicks]) -> list[int]:
        q = self._q
        with self._conn() as conn, conn.transaction():
            rows = conn.execute(q.schedule_lock, (sorted({d.name for d in due}),)).fetchall()
            last = {name: last_at for name, paused, last_at in rows if not paused}
            live = [d for d in due if d.name in last]
            wanted = {
                (d.name, tick): m
                for d in live
                for tick, m in d.ticks
                if last[d.name] is None or tick > last[d.name]
            }
            ids: list[int] = []
            if wanted:
                names, ticks = zip(*wanted, strict=True)
                recorded = conn.execute(q.schedule_tick, (list(names), list(ticks))).fetchall()
                fresh = {(name, tick) for name, tick in recorded}
                messages = [m for key, m in wanted.items() if key in fresh]  # oldest first, as given
                ids = self._enqueue_in(conn, messages) if messages else []
            if live:
                names_ = [d.name for d in live]
                conn.execute(q.schedule_advance, {"names": names_, "uptos": [d.upto for d in live]})
                befores = [d.upto - TICK_RECORDS_KEPT for d in live]
                conn.execute(q.schedule_prune_ticks, {"names": names_, "befores": befores})
        return ids
