"""The dashboard's pages and what each one looks at: the navigation, and a ``View`` per open page.

A ``View`` is hashable: the live poller renders each distinct view once per tick, whatever the number
of tabs showing it. Every field comes from the path and query string and is checked here (ValueError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from .._message import STATES
from .._registry import check_worker_name

__all__ = ["NAV", "PAGES", "RANGES", "Cursor", "View", "parse_view"]

# (page, path under the root, title): the navigation, in order. "worker" is reached from "workers".
NAV = (
    ("overview", "/", "Overview"),
    ("workers", "/workers", "Workers"),
    ("runners", "/runners", "Runners"),
    ("schedules", "/schedules", "Schedules"),
    ("dead", "/dead", "Dead letters"),
    ("unknown", "/unknown", "Unknown (404)"),
    ("messages", "/messages", "Messages"),
)

# The live sections of each page, by element id (each one a template of the same name).
PAGES: dict[str, tuple[str, ...]] = {
    "overview": ("totals", "charts", "workers"),
    "workers": ("workers",),
    "worker": ("rules", "charts", "traces", "dead", "messages"),
    "runners": ("runners",),
    "schedules": ("schedules",),
    "dead": ("dead",),
    "unknown": ("unknown",),
    "messages": ("messages",),
}

RANGES = {"hour": 60, "day": 1440}  # chart ranges: minutes of stats read
MAX_SEARCH = 200  # characters of a search text
CURSOR_PATTERN = r"^-?[0-9]{1,20}(\.[0-9]{1,20})?_[0-9]{1,18}$"  # <run_at>_<id>, from a Next page link


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of messages starts: after the message ``id`` that runs at ``run_at``."""

    run_at: float
    id: int

    def __str__(self) -> str:
        return f"{self.run_at!r}_{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        if re.fullmatch(CURSOR_PATTERN, text) is None:
            raise ValueError(f"after must be <run_at>_<id> (from a Next page link), not {text[:80]!r}")
        run_at, _, message_id = text.partition("_")
        return cls(float(run_at), int(message_id))


@dataclass(frozen=True, slots=True)
class View:
    """One page and its filters: the worker it is about, a message state, a search, a page cursor,
    the chart range."""

    worker: str | None = None
    state: str | None = None
    page: str = "overview"
    q: str | None = None
    after: Cursor | None = None
    range: str = "hour"
    base: str = ""
    """The dashboard's root path (where it is mounted), for links."""

    @property
    def sections(self) -> tuple[str, ...]:
        return PAGES[self.page]

    def query(self) -> str:
        """The query string of the live stream of this view (a worker alone: its page)."""
        pairs = [
            ("page", None if self.page == "worker" else self.page),
            ("worker", self.worker),
            ("state", self.state),
            ("q", self.q),
            ("after", None if self.after is None else str(self.after)),
            ("range", None if self.range == "hour" else self.range),
        ]
        return "?" + urlencode([(k, v) for k, v in pairs if v])

    def link(self, **changes: str | None) -> str:
        """The query string of this page with some filters changed (None drops one)."""
        pairs = {"state": self.state, "q": self.q, "range": None if self.range == "hour" else self.range}
        if self.page == "messages":
            pairs["worker"] = self.worker
        pairs.update(changes)
        text = urlencode([(k, v) for k, v in pairs.items() if v])
        return "?" + text if text else "?"


def parse_view(
    params: Mapping[str, str], page: str | None = None, worker: str | None = None, base: str = ""
) -> View:
    """The view a path and query string ask for (ValueError on any bad part)."""
    if page is None:
        page = params.get("page") or "overview"
        if page not in PAGES or page == "worker":  # a worker's page: worker= alone
            raise ValueError(
                f"page must be one of {', '.join(p for p in PAGES if p != 'worker')}, not {page[:80]!r}"
            )
    worker = worker or params.get("worker") or None
    if worker is not None:
        check_worker_name(worker)
        if page == "overview":  # /?worker=name: that worker's page (older links)
            page = "worker"
    if page == "worker" and worker is None:
        raise ValueError("the worker page needs a worker")
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {state[:80]!r}")
    q = (params.get("q") or "").strip() or None
    if q is not None and (len(q) > MAX_SEARCH or "\x00" in q):
        raise ValueError(f"q must be text of at most {MAX_SEARCH} characters, without NUL")
    after = params.get("after") or None
    range_ = params.get("range") or "hour"
    if range_ not in RANGES:
        raise ValueError(f"range must be one of {', '.join(RANGES)}, not {range_[:80]!r}")
    cursor = None if after is None else Cursor.parse(after)
    return View(worker, state, page, q, cursor, range_, base.rstrip("/"))
