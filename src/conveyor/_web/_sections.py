"""What each live section of the dashboard shows: one loader per section, reading the store through
the App. The reads every view of a tick shares (worker counts, stats, runners, …) run once per tick
(``Reads``), whatever the number of views and tabs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._stores._series import Point
from ._charts import busiest, chart_data
from ._statscache import StatsCache
from ._views import RANGES, View

if TYPE_CHECKING:
    from .._app import App

__all__ = ["LOADERS", "MESSAGES_SHOWN", "PAGE_SIZE", "SEARCH_SCAN", "Reads"]

MESSAGES_SHOWN = 25  # the messages page (all workers): the oldest so many (each worker's read, merged)
DEAD_SHOWN = 100
PAGE_SIZE = 50  # a worker's messages, per page
BUSIEST = 15  # workers on the overview
WORKERS_SHOWN = 200  # workers on the workers page (a filter by name finds the others)
SEARCH_SCAN = 10_000  # messages a search looks at per page


class Reads:
    """The store reads of one tick, each made once on first use; a failed read raises again in each
    section that needs it."""

    def __init__(self, app: App, cache: StatsCache) -> None:
        self.app = app
        self.cache = cache
        self._done: dict[Any, tuple[Any, Exception | None]] = {}

    def get(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self._done:
            try:
                self._done[key] = (read(), None)
            except Exception as error:  # raised again below, in each section that needs the value
                self._done[key] = (None, error)
        value, failed = self._done[key]
        if failed is not None:
            raise failed
        return value

    def status(self) -> list[Any]:
        return self.get("status", lambda: sorted(self.app.status().values(), key=lambda s: s.name))  # type: ignore[no-any-return]

    def runners(self) -> list[Any]:
        return self.get("runners", self.app.runners)  # type: ignore[no-any-return]

    def series(self, worker: str | None, minutes: int) -> dict[int, Point]:
        read = lambda: self.cache.series(self.app.store, worker, minutes)  # noqa: E731
        return self.get(("series", worker, minutes), read)  # type: ignore[no-any-return]

    def recent(self) -> dict[str, tuple[int, int]]:
        """Per worker, the runs finished and failed in the last hour."""
        return self.get("recent", lambda: self.cache.sums(self.app.store, 60))  # type: ignore[no-any-return]


def _totals(app: App, view: View, reads: Reads) -> dict[str, Any]:
    status = reads.status()
    recent = reads.recent()
    runners = reads.runners()
    return {
        "queued": sum(s.queued for s in status),
        "scheduled": sum(s.scheduled for s in status),
        "running": sum(s.running for s in status),
        "dead": sum(s.dead for s in status),
        "workers": len(status),
        "paused": sum(1 for s in status if s.paused),
        "processed": sum(p for p, _ in recent.values()),
        "failed": sum(f for _, f in recent.values()),
        "runners": sum(1 for r in runners if r.state == "live"),
        "lost": sum(1 for r in runners if r.state == "lost"),
        "slots": sum(r.slots or 0 for r in runners if r.state == "live"),
        "busy": sum(r.running for r in runners if r.state == "live"),
    }


def _charts(app: App, view: View, reads: Reads) -> dict[str, Any]:
    minutes = RANGES[view.range]
    if view.page == "worker":
        assert view.worker is not None
        data = chart_data(reads.series(view.worker, minutes), {}, minutes, view.worker)
    else:
        top = {w: reads.series(w, minutes) for w in busiest(reads.recent())}
        data = chart_data(reads.series(None, minutes), top, minutes, "total")
    return {"data": orjson.dumps(data).decode(), "chart_ids": [c["id"] for c in data["charts"]]}


def _workers(app: App, view: View, reads: Reads) -> dict[str, Any]:
    """The overview: the busiest ``BUSIEST`` workers (backlog, then work done in the last hour); the
    workers page: all of them by name, or those whose name holds ``q``, ``WORKERS_SHOWN`` at most."""
    status, recent = reads.status(), reads.recent()
    if view.page == "overview":
        busy = sorted(
            status, key=lambda s: (-(s.queued + s.running + s.dead), -recent.get(s.name, (0, 0))[0], s.name)
        )
        shown, limit = busy[:BUSIEST], BUSIEST
    else:
        matching = [s for s in status if view.q is None or view.q in s.name]
        shown, limit = matching[:WORKERS_SHOWN], WORKERS_SHOWN
    return {"workers": shown, "recent": recent, "total": len(status), "limit": limit}


def _rules(app: App, view: View, reads: Reads) -> dict[str, Any]:
    assert view.worker is not None
    found = [s for s in reads.status() if s.name == view.worker]
    return {
        "status": found[0] if found else None,
        "spec": app.registry.get(view.worker),
        "recent": reads.recent().get(view.worker),
    }


def _runners(app: App, view: View, reads: Reads) -> dict[str, Any]:
    runners = sorted(reads.runners(), key=lambda r: (r.state != "live", r.host or "", r.pid or 0, r.id))
    return {"runners": runners, "clock": time.time()}


def _dead(app: App, view: View, reads: Reads) -> dict[str, Any]:
    dead = app.messages(view.worker, "dead", DEAD_SHOWN)
    total = sum(s.dead for s in reads.status() if view.worker in (None, s.name))
    return {"dead": dead, "total": max(total, len(dead))}


def _messages(app: App, view: View, reads: Reads) -> dict[str, Any]:
    if view.worker is not None and (view.page == "worker" or view.q is not None or view.after is not None):
        # one worker: a page at a time, searchable
        after = None if view.after is None else (view.after.run_at, view.after.id)
        state = view.state or "queued"
        scan = SEARCH_SCAN if view.q else PAGE_SIZE + 1
        page = app.store.browse(view.worker, state, after, text=view.q, limit=PAGE_SIZE, scan=scan)  # type: ignore[arg-type]
        messages = page.messages
        if view.q is not None and view.q.isdigit() and after is None and int(view.q) < 2**63:
            found = app.message(int(view.q))  # by id too, in any state
            if found is not None and found.worker == view.worker and found not in messages:
                messages = [found, *messages]
        return {"messages": messages, "next": page.next, "scanned": page.scanned, "paged": True}
    if view.q is not None:  # every worker: by id
        if not view.q.isdigit():
            return {"messages": [], "next": None, "scanned": 0, "paged": False, "pick": True}
        found = app.message(int(view.q)) if int(view.q) < 2**63 else None
        return {
            "messages": [found] if found else [],
            "next": None,
            "scanned": 0,
            "paged": False,
            "by_id": True,
        }
    messages = app.messages(view.worker, view.state, MESSAGES_SHOWN)  # type: ignore[arg-type]
    return {"messages": messages, "next": None, "scanned": 0, "paged": False, "shown": MESSAGES_SHOWN}


LOADERS: dict[str, Callable[[App, View, Reads], dict[str, Any]]] = {
    "totals": _totals,
    "charts": _charts,
    "workers": _workers,
    "rules": _rules,
    "runners": _runners,
    "schedules": lambda app, view, reads: {"schedules": reads.get("schedules", app.schedules)},
    "traces": lambda app, view, reads: {"traces": app.traces(view.worker) if view.worker else []},
    "unknown": lambda app, view, reads: {"unknown": reads.get("unknown", app.unknown)},
    "dead": _dead,
    "messages": _messages,
}
