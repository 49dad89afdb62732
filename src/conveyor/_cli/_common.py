"""What every command shares: options, the App a command works on, errors, tables and output."""

from __future__ import annotations

import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from .._errors import UnknownWorkerWarning

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from .._app import App
    from .._message import Message, Trace, WorkerStatus

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def bad_input() -> Iterator[None]:
    """ValueError/TypeError from the API (bad names, bad values) become a usage error: exit 2."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise click.UsageError(str(error) or type(error).__name__) from None


def opt(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option with an environment variable (CONVEYOR_<NAME>), shown in --help."""
    if "envvar" not in kwargs:
        long = next(d for d in decls if d.startswith("--"))
        kwargs["envvar"] = "CONVEYOR_" + long[2:].upper().replace("-", "_")
    kwargs.setdefault("show_envvar", True)
    return click.option(*decls, **kwargs)


def _store_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("the store URL is empty (sqlite:///path.db or postgresql://…)")
    return value


store_option = opt(
    "--store",
    envvar="CONVEYOR_STORE",
    callback=_store_url,
    metavar="URL",
    help="Store URL: sqlite:///path.db or postgresql://… (default: the app's, else sqlite:///conveyor.db).",
)
json_option = opt(
    "--json", "as_json", is_flag=True, envvar="CONVEYOR_JSON", help="Print JSON instead of a table."
)
host_option = opt(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="CONVEYOR_HOST",
    help="Address to serve the dashboard and API on (beyond loopback needs CONVEYOR_TOKEN).",
)
port_option = opt(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    envvar="CONVEYOR_PORT",
    help="Port for the dashboard and API (0: any free port).",
)
token_option = opt(
    "--token",
    envvar="CONVEYOR_TOKEN",
    metavar="TOKEN",
    show_default=False,
    help="Bearer token every HTTP request must carry (prefer the environment variable).",
)


def open_app(store: str | None, ref: str | None = None, *, create: bool = True) -> App:
    """The App a command works on, its store open: the APP argument, else a bare App on the store.
    ``create=False`` (read commands): a store that does not exist is reported (exit 1), not created."""
    from .._app import App
    from .._errors import StoreNotFound
    from .._stores import open_store

    with bad_input():
        if ref is not None:
            app = _load(ref)
            if store:
                app.use_store(store)
        else:
            app = App(store or None)
        url = app.url
        try:
            if not create:
                opened = App(open_store(url, create=False))
                opened.registry = app.registry  # an APP's workers and schedules, on the store as it is
                opened.hooks = app.hooks
                app = opened
            app.store  # noqa: B018 - open (and migrate) now, so a bad URL is reported here
        except (ValueError, TypeError):
            raise
        except StoreNotFound as error:
            raise click.ClickException(
                f"{error}; a write (emit, pause, …) or `conveyor run` creates it"
            ) from None
        except Exception as error:
            raise click.ClickException(f"cannot open store {safe_url(url)}: {error}") from None
    click.get_current_context().call_on_close(app.close)
    return app


def _load(ref: str) -> App:
    """The App an APP argument names. One that fails to import is one line (exit 2); the traceback is
    printed first with ``conveyor --debug``."""
    from .._loader import AppImportError, load_app

    try:
        return load_app(ref)
    except AppImportError as error:
        ctx = click.get_current_context()
        if ctx.find_root().params.get("debug"):
            traceback.print_exception(error.__cause__ or error, file=sys.stderr)
            raise click.UsageError(str(error)) from None
        command = ctx.command_path.removeprefix(ctx.find_root().command_path).strip()
        raise click.UsageError(f"{error}; for the traceback: conveyor --debug {command} …") from None


def safe_url(url: str) -> str:
    """The store URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def print_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, soft_wrap=False, highlight=False, width=width)


def table(*columns: str) -> Table:
    from rich.table import Table

    out = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        right = column in ("queued", "scheduled", "running", "dead", "id", "attempt", "count", "message")
        out.add_column(column, justify="right" if right else "left", overflow="fold")
    return out


def when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def compact(value: Any, width: int = 60) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _state(w: WorkerStatus) -> str:
    if w.blocked:
        return f"blocked: {w.blocked}"
    if w.paused:
        return "paused"
    return "unknown" if w.unknown else "active"


def _rate(w: WorkerStatus) -> str:
    if w.rate is None:
        return ""
    return f"{w.rate}, holding back" if w.rate_limited else w.rate


def status_table(statuses: Sequence[WorkerStatus]) -> Table:
    rated = any(w.rate is not None for w in statuses)
    out = table("worker", "state", "queued", "scheduled", "running", "dead", *(["rate"] if rated else []))
    for w in statuses:
        cells = [w.name, _state(w), str(w.queued), str(w.scheduled), str(w.running), str(w.dead)]
        out.add_row(*cells, *([_rate(w)] if rated else []))
    return out


def messages_table(messages: Sequence[Message]) -> Table:
    out = table("id", "worker", "state", "priority", "attempt", "enqueued", "runs at", "event", "last error")
    for m in messages:
        out.add_row(
            str(m.id),
            m.worker,
            m.state,
            str(m.priority),
            str(m.attempt),
            when(m.enqueued_at),
            when(m.run_at),
            compact(m.event),
            m.last_error or "",
        )
    return out


def message_table(m: Message) -> Table:
    """One message, a field per row."""
    out = table("field", "value")
    out.show_header = False
    rows = [
        ("id", str(m.id)),
        ("worker", m.worker),
        ("state", m.state),
        ("priority", str(m.priority)),
        ("attempt", str(m.attempt)),
        ("snoozes", str(m.snoozes)),
        ("enqueued", f"{when(m.enqueued_at)} UTC"),
        ("runs at", f"{when(m.run_at)} UTC"),
        ("key", m.key or ""),
        ("parent", "" if m.parent_id is None else str(m.parent_id)),
        ("root", "" if m.root_id is None else str(m.root_id)),
        ("group", "" if m.group is None else _ids(m.group)),
        ("meta", " ".join(f"{k}={v}" for k, v in sorted(m.meta.items()))),
        ("event", compact(m.event, width=10_000)),
        ("last error", m.last_error or ""),
    ]
    for name, value in rows:
        out.add_row(name, value)
    return out


def _ids(ids: Sequence[int], shown: int = 20) -> str:
    """A group's ids: the first ``shown`` of them, and how many in all."""
    text = " ".join(map(str, ids[:shown]))
    return f"{text} … ({len(ids)} in all)" if len(ids) > shown else text


def traces_table(traces: Sequence[Trace]) -> Table:
    out = table("finished", "message", "attempt", "outcome", "wait", "run", "result / error")
    for t in traces:
        detail = t.error if t.outcome != "ok" else compact(t.result)
        out.add_row(
            when(t.finished_at),
            str(t.message_id),
            str(t.attempt),
            t.outcome,
            seconds(t.wait),
            seconds(t.duration),
            detail or "",
        )
    return out


def emit_quietly(  # noqa: PLR0917 - emit's own order
    app: App, event: Any, worker: str, delay: float | None = None, key: str | None = None, priority: int = 0
) -> int:
    """Emit without the Python-side warning: the CLI and HTTP accept unknown workers by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownWorkerWarning)
        return app.emit(event, worker, delay=delay, key=key, priority=priority)


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (the handlers before are restored)."""
    import signal

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def progress() -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        yield bar
