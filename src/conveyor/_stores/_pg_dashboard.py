"""The PostgreSQL store's reads for the dashboard: one worker's messages a page at a time with search
(``browse_*.sql``, ``_browse.py``) and the stats added up in SQL for its charts (``stats_series*.sql``,
``stats_sums.sql``, ``_series.py``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from .._message import State
from . import _rows
from ._browse import Browsed, browse_params, ordered, page_of
from ._pg_lane import Conn
from ._pg_url import _Queries
from ._series import Point, points

__all__ = ["PostgresDashboard"]


class PostgresDashboard:
    """Dashboard reads of ``PostgresStore`` (a mixin: it uses the store's pool)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]

    def stats_series(self, worker: str | None, since: int, until: int, step: int) -> dict[int, Point]:
        params = {"worker": worker, "since": since, "until": until, "step": step}
        query = self._q.stats_series if worker is None else self._q.stats_series_worker
        with self._conn() as conn:
            rows = conn.execute(query, params).fetchall()
        return points(rows)

    def stats_sums(self, since: int, until: int) -> list[tuple[int, str, int, int]]:
        with self._conn() as conn:
            rows = conn.execute(self._q.stats_sums, {"since": since, "until": until}).fetchall()
        return [(int(m), w, int(p), int(f)) for m, w, p, f in rows]

    def browse(
        self,
        worker: str,
        state: State,
        after: tuple[float, int] | None,
        *,
        text: str | None,
        limit: int,
        scan: int,
    ) -> Browsed:
        query, params = browse_params(worker, state, after, text=text, scan=scan, now=time.time())
        with self._conn() as conn:
            rows = conn.execute(getattr(self._q, query), params).fetchall()
            ids, following = page_of(rows, limit, scan)
            found = conn.execute(self._q.browse_rows, {"ids": ids}).fetchall() if ids else []
        return Browsed(ordered(_rows.messages(found), ids), following, len(rows))
