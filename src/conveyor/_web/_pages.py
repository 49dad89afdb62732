"""Server-rendered dashboard: the page and its live sections (Jinja2, autoescaped: event data is text)."""

from __future__ import annotations

from collections.abc import Mapping
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

SECTIONS = ("workers", "traces", "unknown", "dead", "messages")
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

    def view(self, params: Mapping[str, str]) -> View:
        """The view a query string asks for (ValueError on a bad worker name or state)."""
        worker = params.get("worker") or None
        state = params.get("state") or None
        if worker is not None:
            check_worker_name(worker)
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {state[:80]!r}")
        return View(worker, state)

    def sections(self, view: View) -> dict[str, str]:
        app = self.app
        status = list(app.status().values())
        dead = app.messages(view.worker, "dead", DEAD_SHOWN)
        total = sum(s.dead for s in status if view.worker in (None, s.name))
        data: dict[str, dict[str, Any]] = {
            "workers": {"workers": status},
            "traces": {"traces": app.traces(view.worker) if view.worker else []},
            "unknown": {"unknown": app.unknown()},
            "dead": {"dead": dead, "total": max(total, len(dead))},
            "messages": {"messages": app.messages(view.worker, view.state, MESSAGES_SHOWN)},  # type: ignore[arg-type]
        }
        return {
            name: self.env.get_template(f"{name}.html").render(view=view, now=datetime.now(UTC), **data[name])
            for name in SECTIONS
        }

    def index(self, view: View, base: str) -> str:
        sections = {name: Markup(html) for name, html in self.sections(view).items()}
        workers = sorted(self.app.status())
        return self.env.get_template("index.html").render(
            view=view, base=base.rstrip("/"), sections=sections, workers=workers, states=STATES
        )
