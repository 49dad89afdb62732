"""Server-rendered dashboard: the page and its live sections (Jinja2, autoescaped: event data is text)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import orjson
from markupsafe import Markup

from .._message import STATES
from .._registry import check_worker_name

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Pages", "View"]

log = logging.getLogger("conveyor.web")

SECTIONS = ("workers", "schedules", "traces", "unknown", "dead", "messages")
MESSAGES_SHOWN = 100
DEAD_SHOWN = 100


@dataclass(frozen=True, slots=True)
class View:
    """What the page looks at: one worker (its traces, messages, dead letters) and a message state."""

    worker: str | None = None
    state: str | None = None

    def query(self) -> str:
        parts = [f"{k}={v}" for k, v in (("worker", self.worker), ("state", self.state)) if v]
        return "?" + "&".join(parts) if parts else ""


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _compact(value: Any, width: int = 120) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


class _Fetched:
    """One store read shared by every view of a tick: its value, or the error that ``get`` raises."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self.error: Exception | None = None
        try:
            self.value = read()
        except Exception as error:  # raised again by get(), in each section that needs the value
            self.value, self.error = None, error

    def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


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
        self.env.filters.update(pretty=_pretty, compact=_compact, when=_when, seconds=_seconds)
        self._errors: dict[str, str] = {}

    def view(self, params: Mapping[str, str]) -> View:
        """The view a query string asks for (ValueError on a bad worker name or state)."""
        worker = params.get("worker") or None
        state = params.get("state") or None
        if worker is not None:
            check_worker_name(worker)
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {state[:80]!r}")
        return View(worker, state)

    def render(self, views: Iterable[View]) -> dict[View, dict[str, str]]:
        """The sections of each view. The queries every view shares run once; a section whose data
        or template fails shows the error in its place (logged once per new error), the rest render."""
        app = self.app
        status = _Fetched(lambda: list(app.status().values()))
        unknown = _Fetched(app.unknown)
        schedules = _Fetched(app.schedules)
        return {view: self._sections(view, status, unknown, schedules) for view in views}

    def sections(self, view: View) -> dict[str, str]:
        return self.render([view])[view]

    def _sections(
        self, view: View, status: _Fetched, unknown: _Fetched, schedules: _Fetched
    ) -> dict[str, str]:
        app = self.app

        def dead() -> dict[str, Any]:
            dead = app.messages(view.worker, "dead", DEAD_SHOWN)
            total = sum(s.dead for s in status.get() if view.worker in (None, s.name))
            return {"dead": dead, "total": max(total, len(dead))}

        loaders: dict[str, Callable[[], dict[str, Any]]] = {
            "workers": lambda: {"workers": status.get()},
            "schedules": lambda: {"schedules": schedules.get()},
            "traces": lambda: {"traces": app.traces(view.worker) if view.worker else []},
            "unknown": lambda: {"unknown": unknown.get()},
            "dead": dead,
            "messages": lambda: {"messages": app.messages(view.worker, view.state, MESSAGES_SHOWN)},  # type: ignore[arg-type]
        }
        out: dict[str, str] = {}
        for name in SECTIONS:
            try:
                data = loaders[name]()
                out[name] = self.env.get_template(f"{name}.html").render(
                    view=view, now=datetime.now(UTC), **data
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
        html = self.env.get_template("message.html").render(
            base=base.rstrip("/"),
            message_id=message_id,
            message=message,
            traces=traces,
            result=kept,
            view=View(worker),
        )
        return (200 if message is not None or traces or kept else 404), html

    def index(self, view: View, base: str) -> str:
        status = _Fetched(lambda: list(self.app.status().values()))
        sections = {
            name: Markup(html)
            for name, html in self._sections(
                view, status, _Fetched(self.app.unknown), _Fetched(self.app.schedules)
            ).items()
        }
        workers = sorted(s.name for s in status.value or ())
        return self.env.get_template("index.html").render(
            view=view, base=base.rstrip("/"), sections=sections, workers=workers, states=STATES
        )

    def sign_in(self, base: str, next_path: str, wrong: bool) -> str:
        return self.env.get_template("sign_in.html").render(
            base=base.rstrip("/"), next=next_path, wrong=wrong
        )
