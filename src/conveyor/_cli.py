"""The ``conveyor`` command: run workers, serve the dashboard, and inspect or steer every queue.

Bad input (a malformed argument, an invalid worker name, JSON that does not parse, an APP that cannot
be found) exits with status 2 and one line on stderr. Every read command takes ``--json``.
"""

from __future__ import annotations

import inspect
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import orjson

from ._errors import UnknownWorkerWarning
from ._message import STATES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ._app import App
    from ._message import Message, Trace, WorkerStatus

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


class _Main(click.Group):
    """A group whose errors are one line on stderr (click's usage errors print three)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            result = super().main(args, prog_name or "conveyor", complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            message = " ".join(error.format_message().split())
            click.echo(f"Error: {message}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


@contextmanager
def _bad_input() -> Iterator[None]:
    """ValueError/TypeError from the API (bad names, bad values) become a usage error: exit 2."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise click.UsageError(str(error) or type(error).__name__) from None


def _opt(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option with an environment variable (CONVEYOR_<NAME>), shown in --help."""
    if "envvar" not in kwargs:
        long = next(d for d in decls if d.startswith("--"))
        kwargs["envvar"] = "CONVEYOR_" + long[2:].upper().replace("-", "_")
    kwargs.setdefault("show_envvar", True)
    return click.option(*decls, **kwargs)


store_option = _opt(
    "--store",
    envvar="CONVEYOR_STORE",
    metavar="URL",
    help="Store URL: sqlite:///path.db or postgresql://… (default: the app's, else sqlite:///conveyor.db).",
)
json_option = _opt(
    "--json", "as_json", is_flag=True, envvar="CONVEYOR_JSON", help="Print JSON instead of a table."
)
host_option = _opt(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="CONVEYOR_HOST",
    help="Address to serve the dashboard and API on (beyond loopback needs CONVEYOR_TOKEN).",
)
port_option = _opt(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    envvar="CONVEYOR_PORT",
    help="Port for the dashboard and API (0: any free port).",
)
token_option = _opt(
    "--token",
    envvar="CONVEYOR_TOKEN",
    metavar="TOKEN",
    show_default=False,
    help="Bearer token every HTTP request must carry (prefer the environment variable).",
)


def _app(store: str | None, ref: str | None = None) -> App:
    """The App a command works on: the APP argument, else a bare App on the store."""
    from ._app import App
    from ._loader import load_app

    with _bad_input():
        if ref is not None:
            app = load_app(ref)
            if store:
                app.use_store(store)
        else:
            app = App(store or None)
        click.get_current_context().call_on_close(app.close)
        url = app.url
        try:
            app.store  # noqa: B018 - open (and migrate) now, so a bad URL is reported here
        except (ValueError, TypeError):
            raise
        except Exception as error:
            raise click.ClickException(f"cannot open store {_safe_url(url)}: {error}") from None
    return app


def _safe_url(url: str) -> str:
    """The store URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _print_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, soft_wrap=False, highlight=False, width=width)


def _table(*columns: str) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        right = column in ("queued", "scheduled", "running", "dead", "id", "attempt", "count", "message")
        table.add_column(column, justify="right" if right else "left", overflow="fold")
    return table


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _compact(value: Any, width: int = 60) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _state(w: WorkerStatus) -> str:
    if w.blocked:
        return f"blocked: {w.blocked}"
    if w.paused:
        return "paused"
    return "unknown" if w.unknown else "active"


def _status_table(statuses: Sequence[WorkerStatus]) -> Table:
    table = _table("worker", "state", "queued", "scheduled", "running", "dead")
    for w in statuses:
        table.add_row(w.name, _state(w), str(w.queued), str(w.scheduled), str(w.running), str(w.dead))
    return table


def _messages_table(messages: Sequence[Message]) -> Table:
    table = _table("id", "worker", "state", "attempt", "enqueued", "runs at", "event", "last error")
    for m in messages:
        table.add_row(
            str(m.id),
            m.worker,
            m.state,
            str(m.attempt),
            _when(m.enqueued_at),
            _when(m.run_at),
            _compact(m.event),
            m.last_error or "",
        )
    return table


def _traces_table(traces: Sequence[Trace]) -> Table:
    table = _table("finished", "message", "attempt", "outcome", "wait", "run", "result / error")
    for t in traces:
        detail = t.error if t.outcome != "ok" else _compact(t.result)
        table.add_row(
            _when(t.finished_at),
            str(t.message_id),
            str(t.attempt),
            t.outcome,
            _seconds(t.wait),
            _seconds(t.duration),
            detail or "",
        )
    return table


def _emit(app: App, event: Any, worker: str, delay: float | None = None, key: str | None = None) -> int:
    """Emit without the Python-side warning: the CLI and HTTP accept unknown workers by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownWorkerWarning)
        return app.emit(event, worker, delay=delay, key=key)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="conveyor", prog_name="conveyor")
def main() -> None:
    """Conveyor: durable background workers.

    APP is module:attr, a module, or path/to/file.py[:attr]. Every command takes --store URL
    (or $CONVEYOR_STORE); read commands take --json.
    """


# -- running ---------------------------------------------------------------------------------------
def _web_app(app: App) -> App:
    """An App for the web thread: the same workers on its own store connection (unless in-memory)."""
    from ._app import App

    if ":memory:" in app.url:
        return app
    twin = App(
        app.url, lease=app.lease, incomplete_delay=app.incomplete_delay, max_event_bytes=app.max_event_bytes
    )
    twin.registry = app.registry
    return twin


def _start_web(app: App, host: str, port: int, token: str | None) -> Any:
    from ._web import WebServer

    with _bad_input():
        server = WebServer(_web_app(app), host, port, token or "")
    try:
        server.start()
    except OSError as error:
        raise click.ClickException(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    return server


def _run_kwargs(app: App, **wanted: Any) -> dict[str, Any]:
    """The options this version of ``app.run`` accepts; a given one it does not accept is an error."""
    accepted = inspect.signature(app.run).parameters
    out = {}
    for name, value in wanted.items():
        if value is None:
            continue  # the App's default
        if name in accepted:
            out[name] = value
        else:
            raise click.UsageError(f"--{name.replace('_', '-')} is not supported by this version of conveyor")
    return out


@main.command()
@click.argument("app_ref", metavar="APP")
@store_option
@_opt(
    "--processes",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_PROCESSES",
    help="Runner processes (default: one per core).",
)
@_opt(
    "--concurrency",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_CONCURRENCY",
    help="Message slots per runner process.",
)
@host_option
@port_option
@_opt("--no-web", is_flag=True, envvar="CONVEYOR_NO_WEB", help="Do not serve the dashboard and API.")
@_opt(
    "--grace",
    type=click.FloatRange(min=0),
    envvar="CONVEYOR_GRACE",
    help="Seconds in-flight messages get to finish on shutdown.",
)
@_opt(
    "--max-tasks-per-child",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_MAX_TASKS_PER_CHILD",
    help="Replace a runner process after this many messages.",
)
@_opt(
    "--max-memory-per-child",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_MAX_MEMORY_PER_CHILD",
    metavar="MB",
    help="Replace a runner process past this resident memory.",
)
@token_option
def run(  # noqa: PLR0917 - click passes options as arguments
    app_ref: str,
    store: str | None,
    processes: int | None,
    concurrency: int | None,
    host: str,
    port: int,
    no_web: bool,
    grace: float | None,
    max_tasks_per_child: int | None,
    max_memory_per_child: int | None,
    token: str | None,
) -> None:
    """Run APP's workers (and serve the dashboard) until SIGINT/SIGTERM."""
    app = _app(store, app_ref)
    kwargs = _run_kwargs(
        app,
        processes=processes,
        concurrency=concurrency,
        grace=grace,
        max_tasks_per_child=max_tasks_per_child,
        max_memory_per_child=max_memory_per_child,
    )
    if not no_web:
        from ._web import check_bind

        with _bad_input():
            check_bind(host, token)
    server = None if no_web else _start_web(app, host, port, token)
    if server is not None:
        click.echo(f"conveyor: dashboard and API on {server.url}", err=True)
    names = ", ".join(app.registry.names()) or "no workers"
    click.echo(f"conveyor: running {names} on {_safe_url(app.url)}", err=True)
    try:
        with _bad_input():
            app.run(**kwargs)
    finally:
        if server is not None:
            server.stop()
            if server.asgi.state.conveyor.app is not app:
                server.asgi.state.conveyor.app.close()


@main.command()
@click.argument("app_ref", metavar="[APP]", required=False)
@store_option
@host_option
@port_option
@token_option
def web(app_ref: str | None, store: str | None, host: str, port: int, token: str | None) -> None:
    """Serve the dashboard and HTTP API alone (no workers run here) until Ctrl-C."""
    app = _app(store, app_ref)
    from ._web import check_bind

    with _bad_input():
        check_bind(host, token)
    server = _start_web(app, host, port, token)
    click.echo(
        f"conveyor: dashboard and API on {server.url} (store {_safe_url(app.url)}); Ctrl-C to stop", err=True
    )
    _wait_for_signal()
    server.stop()


def _wait_for_signal() -> None:
    import signal
    import threading

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@main.command()
@host_option
@_opt(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    envvar="CONVEYOR_PORT",
    help="Port for the dashboard (0: any free port).",
)
@_opt(
    "--rate",
    type=click.FloatRange(min=0.1, max=1000),
    default=4.0,
    show_default=True,
    envvar="CONVEYOR_DEMO_RATE",
    help="Events emitted per second.",
)
@_opt(
    "--seconds",
    type=click.FloatRange(min=0),
    default=None,
    envvar="CONVEYOR_DEMO_SECONDS",
    help="Stop after this many seconds (default: run until Ctrl-C).",
)
@_opt("--processes", type=click.IntRange(1, 16), default=1, show_default=True, help="Runner processes.")
@token_option
def demo(  # noqa: PLR0917
    host: str, port: int, rate: float, seconds: float | None, processes: int, token: str | None
) -> None:
    """Run a demo app on SQLite in a temporary folder, feed it events, and serve its dashboard."""
    from ._demo import run_demo

    with _bad_input():
        run_demo(host=host, port=port, rate=rate, seconds=seconds, token=token or "", processes=processes)


# -- emitting and steering ------------------------------------------------------------------------
@main.command()
@click.argument("worker")
@click.argument("event_json", metavar="[JSON]", required=False)
@store_option
@_opt("--delay", type=click.FloatRange(min=0), help="Seconds before it is due.")
@_opt("--key", help="Dedup key: no-op while a message with this key is queued or running.")
def emit(
    worker: str, event_json: str | None, store: str | None, delay: float | None, key: str | None
) -> None:
    """Emit an event to WORKER: JSON from the argument, or from stdin when it is omitted or '-'."""
    if event_json is None or event_json == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise click.UsageError("give the event as a JSON argument or on stdin")
        event_json = sys.stdin.read()
    try:
        event = orjson.loads(event_json)
    except orjson.JSONDecodeError as error:
        raise click.UsageError(f"the event is not valid JSON: {error}") from None
    app = _app(store)
    with _bad_input():
        message_id = _emit(app, event, worker, delay, key)
    click.echo(message_id)


def _rule_command(name: str, doc: str, action: Callable[[App, str], None], done: str) -> None:
    @main.command(name=name, help=doc)
    @click.argument("worker")
    @store_option
    def command(worker: str, store: str | None) -> None:
        app = _app(store)
        with _bad_input():
            action(app, worker)
        click.echo(f"{done} {worker}")


_rule_command(
    "pause", "Stop claiming WORKER's messages (in-flight ones finish).", lambda a, w: a.pause(w), "paused"
)
_rule_command("resume", "Claim WORKER's messages again.", lambda a, w: a.resume(w), "resumed")
_rule_command("unblock", "Lift a block from WORKER.", lambda a, w: a.unblock(w), "unblocked")


@main.command()
@click.argument("worker")
@_opt("--reason", required=True, help="Why (shown with the worker's status).")
@store_option
def block(worker: str, reason: str, store: str | None) -> None:
    """Block WORKER: its messages are held until it is unblocked."""
    app = _app(store)
    with _bad_input():
        app.block(worker, reason)
    click.echo(f"blocked {worker}")


@main.command()
@click.argument("message_id", metavar="ID", type=click.IntRange(min=0))
@store_option
def cancel(message_id: int, store: str | None) -> None:
    """Remove a queued or scheduled message. Exits 1 if it is not queued or scheduled."""
    app = _app(store)
    with _bad_input():
        removed = app.cancel(message_id)
    if not removed:
        raise click.ClickException(
            f"message {message_id} is not queued or scheduled (running, dead, done or unknown)"
        )
    click.echo(f"cancelled {message_id}")


@main.command()
@click.argument("worker")
@store_option
@_opt("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def purge(worker: str, store: str | None, yes: bool) -> None:
    """Remove every queued and scheduled message of WORKER."""
    app = _app(store)
    with _bad_input():
        status = app.status().get(worker)
        waiting = 0 if status is None else status.queued + status.scheduled
        if waiting and not yes and sys.stdin is not None and sys.stdin.isatty():
            click.confirm(f"remove {waiting} queued/scheduled message(s) of {worker}?", abort=True)
        with _progress() as progress:
            task = progress.add_task(f"purging {worker}", total=max(waiting, 1))
            removed = app.purge(worker)
            progress.update(task, completed=max(waiting, 1))
    click.echo(f"purged {removed} message(s) of {worker}")


@contextmanager
def _progress() -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as progress:
        yield progress


def _dead_command(name: str, verb: str, doc: str) -> None:
    @main.command(name=name, help=doc)
    @click.argument("message_id", metavar="[ID]", type=click.IntRange(min=0), required=False)
    @_opt("--worker", "-w", help="All dead letters of this worker.")
    @store_option
    def command(message_id: int | None, worker: str | None, store: str | None) -> None:
        if (message_id is None) == (worker is None):
            raise click.UsageError(f"give a message ID or --worker W (one of them) to {name}")
        app = _app(store)
        method = app.retry_dead if name == "retry" else app.discard_dead
        with _bad_input():
            if message_id is not None:
                count = method(id=message_id)
            else:
                ids = [m.id for m in app.dead(worker)]
                count = 0
                with _progress() as progress:
                    task = progress.add_task(f"{name} {worker}", total=len(ids))
                    for one in ids:
                        count += method(id=one)
                        progress.advance(task)
                count += method(worker=worker)  # any that died while we went
        if message_id is not None and count == 0:
            raise click.ClickException(f"message {message_id} is not a dead letter")
        click.echo(f"{verb} {count} dead letter(s)")


_dead_command("retry", "retried", "Queue dead letters again with fresh attempts: one ID, or all of --worker.")
_dead_command("discard", "discarded", "Delete dead letters: one ID, or all of --worker.")


# -- reading --------------------------------------------------------------------------------------
@main.command()
@store_option
@json_option
@_opt("--watch", is_flag=True, help="Keep the table on screen, updated live, until Ctrl-C.")
@_opt(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    envvar="CONVEYOR_WATCH_INTERVAL",
    help="Seconds between updates with --watch.",
)
def status(store: str | None, as_json: bool, watch: bool, interval: float) -> None:
    """Every worker with queued / scheduled / running / dead counts and its state."""
    app = _app(store)
    if not watch:
        statuses = list(app.status().values())
        if as_json:
            _print_json(statuses)
        else:
            _console().print(_status_table(statuses) if statuses else "no workers")
        return
    if as_json:
        try:
            while True:
                click.echo(
                    orjson.dumps({"at": datetime.now(UTC), "workers": list(app.status().values())}).decode()
                )
                time.sleep(interval)
        except KeyboardInterrupt:
            return
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    def frame() -> Group:
        stamp = Text(f"{_when(datetime.now(UTC))} UTC · {_safe_url(app.url)} · Ctrl-C to stop", style="dim")
        return Group(stamp, _status_table(list(app.status().values())))

    try:
        with Live(frame(), console=_console(), auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(frame(), refresh=True)
    except KeyboardInterrupt:
        return


@main.command()
@click.argument("worker")
@store_option
@json_option
def traces(worker: str, store: str | None, as_json: bool) -> None:
    """The last traces of WORKER, newest first."""
    app = _app(store)
    with _bad_input():
        found = app.traces(worker)
    if as_json:
        _print_json(found)
    else:
        _console().print(_traces_table(found) if found else f"no traces of {worker}")


@main.command()
@click.argument("worker", required=False)
@_opt("--state", type=click.Choice(STATES), help="Only messages in this state.")
@_opt("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="At most this many.")
@store_option
@json_option
def messages(worker: str | None, state: str | None, limit: int, store: str | None, as_json: bool) -> None:
    """Messages, oldest first: all, or WORKER's."""
    app = _app(store)
    with _bad_input():
        found = app.messages(worker, state, limit)  # type: ignore[arg-type]
    if as_json:
        _print_json(found)
    else:
        _console().print(_messages_table(found) if found else "no messages")


@main.command()
@click.argument("worker", required=False)
@store_option
@json_option
def dead(worker: str | None, store: str | None, as_json: bool) -> None:
    """Dead letters: all, or WORKER's."""
    app = _app(store)
    with _bad_input():
        found = app.dead(worker)
    if as_json:
        _print_json(found)
    else:
        _console().print(_messages_table(found) if found else "no dead letters")


@main.command()
@store_option
@json_option
def unknown(store: str | None, as_json: bool) -> None:
    """Workers emitted to that no running app defines (the "404" list)."""
    app = _app(store)
    found = app.unknown()
    if as_json:
        _print_json(found)
        return
    if not found:
        _console().print("no unknown workers")
        return
    table = _table("worker", "count", "first emit", "last emit", "sample event")
    for u in found:
        table.add_row(u.name, str(u.count), _when(u.first_emit), _when(u.last_emit), _compact(u.sample_event))
    _console().print(table)
