"""The PostgreSQL store's schedule tables (migrations/0005_schedules.sql): published definitions, state,
and the exactly-once tick records written in the same transaction as the tick's message.

A tick's transaction first locks the schedule's state row (``FOR UPDATE``), so tickers of one schedule
on every host emit one after the other; the unique (schedule, tick) record makes a tick emitted twice
impossible even so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from ._base import NewMessage, ScheduleDef, ScheduleState
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

    def emit_ticks(self, name: str, upto: float, ticks: Sequence[tuple[float, NewMessage]]) -> list[int]:
        q = self._q
        with self._conn() as conn, conn.transaction():
            row: Any = conn.execute(q.schedule_state, (name,)).fetchone()
            if row is None or row[0]:
                return []
            last = row[1]
            fresh = []
            for tick, m in ticks:
                if (last is None or tick > last) and conn.execute(q.schedule_tick, (name, tick)).fetchone():
                    fresh.append(m)
            ids = self._enqueue_in(conn, fresh) if fresh else []
            conn.execute(q.schedule_advance, {"name": name, "upto": upto})
            conn.execute(q.schedule_prune_ticks, (name, upto - TICK_RECORDS_KEPT))
        return ids
