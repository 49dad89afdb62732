"""Server-rendered dashboard: its pages and their live sections (Jinja2, autoescaped: event data is text).

Which sections a page has is in ``_views.PAGES``; what each shows, in ``_sections.LOADERS``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import orjson
from markupsafe import Markup

from .._message import STATES
from ._sections import LOADERS, Reads
from ._statscache import StatsCache
from ._views import NAV, View, parse_view

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Pages", "View"]

log = logging.getLogger("conveyor.web")


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _compact(value: Any, width: int = 120) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: datetime | float | None) -> str:
    if value is None:
        return ""
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def _span(value: float) -> str:
    """A duration for people: 42 s, 3 min, 2 h 5 min, 3 d 4 h."""
    value = max(0, int(value))
    if value < 60:
        return f"{value} s"
    if value < 3600:
        return f"{value // 60} min"
    if value < 86400:
        return f"{value // 3600} h {value % 3600 // 60} min"
    return f"{value // 86400} d {value % 86400 // 3600} h"


def _epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class Pages:
    def __init__(self, app: App) -> None:
        self.app = app
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            pretty=_pretty, compact=_compact, when=_when, seconds=_seconds, span=_span, epoch=_epoch
        )
        self._errors: dict[str, str] = {}
        self.stats = StatsCache()

    def view(
        self, params: Mapping[str, str], page: str | None = None, worker: str | None = None, base: str = ""
    ) -> View:
        """The view a path and query string ask for (ValueError on any bad part)."""
        return parse_view(params, page, worker, base)

    def render(self, views: Iterable[View]) -> dict[View, dict[str, str]]:
        """The sections of each view. The reads every view shares run once; a section whose data or
        template fails shows the error in its place (logged once per new error), the rest render."""
        reads = Reads(self.app, self.stats)
        return {view: self._sections(view, reads) for view in views}

    def sections(self, view: View) -> dict[str, str]:
        return self.render([view])[view]

    def _sections(self, view: View, reads: Reads) -> dict[str, str]:
        out: dict[str, str] = {}
        now = datetime.now(UTC)
        for name in view.sections:
            try:
                data = LOADERS[name](self.app, view, reads)
                out[name] = self.env.get_template(f"{name}.html").render(
                    view=view, now=now, base=view.base, **data
                )
            except Exception as error:  # shown in the section and logged: the other sections still render
                out[name] = self._failed(name, error)
            else:
                self._errors.pop(name, None)
        return out

    def _failed(self, name: str, error: Exception) -> str:
        text = f"{type(error).__name__}: {error}"
        if self._errors.get(name) != text:
            self._errors[name] = text
            log.warning("the dashboard's %s section could not be shown: %s", name, text, exc_info=error)
        return str(
            Markup('<p class="error">This section could not be shown: <code>{}</code></p>').format(text)
        )

    def message(self, message_id: int, worker: str | None, base: str) -> tuple[int, str]:
        """The page of one message (and its kept traces): (status, html); 404 when nothing is known."""
        message = self.app.message(message_id)
        worker = message.worker if message is not None else worker
        traces = [t for t in self.app.traces(worker) if t.message_id == message_id] if worker else []
        finished = self.app.results_hub.wait(message_id, 0)
        kept = finished if finished is not None and finished.finished_at is not None else None
        view = View(worker, page="messages", base=base.rstrip("/"))
        html = self.env.get_template("message.html").render(
            base=view.base,
            nav=NAV,
            message_id=message_id,
            message=message,
            traces=traces,
            result=kept,
            view=view,
        )
        return (200 if message is not None or traces or kept else 404), html

    def page(self, view: View) -> str:
        """A whole page: its layout with its sections rendered in place (then kept live by the stream)."""
        reads = Reads(self.app, self.stats)
        sections = {name: Markup(html) for name, html in self._sections(view, reads).items()}
        try:
            workers = [s.name for s in reads.status()]
        except Exception:  # the sections say what failed
            workers = []
        return self.env.get_template(f"page_{view.page}.html").render(
            view=view, base=view.base, nav=NAV, sections=sections, workers=workers, states=STATES
        )

    def sign_in(self, base: str, next_path: str, wrong: bool) -> str:
        return self.env.get_template("sign_in.html").render(
            base=base.rstrip("/"), next=next_path, wrong=wrong
        )
