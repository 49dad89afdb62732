"""The PostgreSQL store's reads of queues, messages and traces (for ``status``, ``messages``, the
dashboard and the CLI): one statement each, on the store's pool."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from .._message import Message, State, Trace, UnknownWorker
from . import _rows
from ._base import RUNNER_TTL, RateState, StoreCounts
from ._pg_lane import Conn
from ._pg_url import _Queries

__all__ = ["PostgresReads"]


class PostgresReads:
    """Reads of ``PostgresStore`` (a mixin: it uses the store's pool)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]

    def rate_states(self) -> list[RateState]:
        with self._conn() as conn:
            rows = conn.execute(self._q.rate_states).fetchall()
        return [RateState(w, n, period, wait) for w, n, period, wait in rows]

    def counts(self) -> list[StoreCounts]:
        with self._conn() as conn, conn.pipeline():
            conn.execute(self._q.fold_counts)  # a no-op while a runner's rescue() folds
            counted = conn.execute(self._q.counts)
            ruled = conn.execute(self._q.rules)
            rows = counted.fetchall()
            rules = {w: (bool(p), b) for w, p, b in ruled.fetchall()}
        out = [StoreCounts(w, q, s, r, d, *rules.pop(w, (False, None))) for w, q, s, r, d in rows]
        out.extend(StoreCounts(w, 0, 0, 0, 0, p, b) for w, (p, b) in rules.items())
        return out

    def unknown(self, defined: Sequence[str]) -> list[UnknownWorker]:
        with self._conn() as conn:
            rows = conn.execute(self._q.unknown, {"defined": list(defined)}).fetchall()
        return _rows.unknown(rows)

    def live_workers(self) -> set[str]:
        with self._conn() as conn:
            return {w for (w,) in conn.execute(self._q.live_workers, (RUNNER_TTL,))}

    def messages(self, worker: str | None, state: State | None, limit: int) -> list[Message]:
        with self._conn() as conn:
            with conn.pipeline(), conn.transaction():
                conn.execute(self._q.messages_plan)
                cur = conn.execute(self._q.messages, {"worker": worker, "state": state, "limit": limit})
            rows = cur.fetchall()
        return _rows.messages(rows)

    def message(self, message_id: int) -> Message | None:
        with self._conn() as conn:
            rows = conn.execute(self._q.message, (message_id,)).fetchall()
        found = _rows.messages(rows)
        return found[0] if found else None

    def traces(self, worker: str) -> list[Trace]:
        with self._conn() as conn:
            rows = conn.execute(self._q.traces, (worker,)).fetchall()
        return _rows.traces(rows)
