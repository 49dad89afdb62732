"""Commands that run something until stopped: ``run``, ``web`` and ``demo``."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import click

from ._common import (
    bad_input,
    host_option,
    open_app,
    opt,
    port_option,
    safe_url,
    stop_signals,
    store_option,
    token_option,
)

if TYPE_CHECKING:
    from .._app import App


def _web_app(app: App, budget: int | None = None) -> App:
    """An App for the web thread: the same workers on its own store connection (unless in-memory),
    named ``conveyor-web`` on PostgreSQL and capped at ``budget`` connections."""
    from .._app import App
    from .._stores._budget import role_url

    if ":memory:" in app.url:
        return app
    twin = App(
        role_url(app.url, "web", budget),
        lease=app.lease,
        incomplete_delay=app.incomplete_delay,
        max_event_bytes=app.max_event_bytes,
    )
    twin.registry = app.registry
    return twin


def _start_web(app: App, host: str, port: int, token: str | None, budget: int | None = None) -> Any:
    from .._web import WebServer

    with bad_input():
        server = WebServer(_web_app(app, budget), host, port, token or "")
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


@click.command()
@click.argument("app_ref", metavar="APP")
@store_option
@opt(
    "--processes",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_PROCESSES",
    help="Runner processes (default: one per core).",
)
@opt(
    "--concurrency",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_CONCURRENCY",
    help="Message slots per runner process.",
)
@host_option
@port_option
@opt("--no-web", is_flag=True, envvar="CONVEYOR_NO_WEB", help="Do not serve the dashboard and API.")
@opt(
    "--grace",
    type=click.FloatRange(min=0),
    envvar="CONVEYOR_GRACE",
    help="Seconds in-flight messages get to finish on shutdown.",
)
@opt(
    "--max-tasks-per-child",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_MAX_TASKS_PER_CHILD",
    help="Replace a runner process after this many messages.",
)
@opt(
    "--max-memory-per-child",
    type=click.IntRange(min=1),
    envvar="CONVEYOR_MAX_MEMORY_PER_CHILD",
    metavar="MB",
    help="Replace a runner process past this resident memory.",
)
@opt(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    envvar="CONVEYOR_LOG_LEVEL",
    help="Least severe log records written to stderr (runner warnings, failed messages, handler logs).",
)
@opt(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="CONVEYOR_LOG_FORMAT",
    help="One line per record: text, or one JSON object.",
)
@opt(
    "--max-connections",
    type=click.IntRange(min=2),
    envvar="CONVEYOR_MAX_CONNECTIONS",
    help="Most PostgreSQL connections this command opens in all: 4 for the web face, the rest "
    "split evenly across runner processes (at least 2 each).",
)
@opt(
    "--liveness-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    envvar="CONVEYOR_LIVENESS_TIMEOUT",
    metavar="SECONDS",
    help="/healthz answers 503 once a runner's loop has not turned for this long.",
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
    log_level: str,
    log_format: str,
    max_connections: int | None,
    liveness_timeout: float,
    token: str | None,
) -> None:
    """Run APP's workers (and serve the dashboard) until SIGINT/SIGTERM."""
    from .._runtime._logs import configure_logging

    configure_logging(log_level.upper(), log_format)
    app = open_app(store, app_ref)
    kwargs = _run_kwargs(
        app,
        processes=processes,
        concurrency=concurrency,
        grace=grace,
        max_tasks_per_child=max_tasks_per_child,
        max_memory_per_child=max_memory_per_child,
        liveness_timeout=liveness_timeout,
    )
    web_budget = None
    if max_connections is not None:
        web_budget, kwargs["max_connections"] = _split_connections(app, max_connections, processes, no_web)
    if not no_web:
        from .._web import check_bind

        with bad_input():
            check_bind(host, token)
    server = None if no_web else _start_web(app, host, port, token, web_budget)
    if server is not None:
        click.echo(f"conveyor: dashboard and API on {server.url}", err=True)
    names = ", ".join(app.registry.names()) or "no workers"
    click.echo(f"conveyor: running {names} on {safe_url(app.url)}", err=True)
    try:
        with bad_input():
            app.run(**kwargs)
    finally:
        if server is not None:
            server.stop()
            if server.asgi.state.conveyor.app is not app:
                server.asgi.state.conveyor.app.close()


def _split_connections(app: App, total: int, processes: int | None, no_web: bool) -> tuple[int | None, int]:
    """(the web face's budget, the runners' total) out of ``--max-connections``."""
    from .._runtime._launch import default_processes
    from .._stores._budget import WEB_SHARE, is_postgres, runner_share

    if not is_postgres(app.url):
        raise click.UsageError(
            "--max-connections bounds PostgreSQL connections; this store is not PostgreSQL"
        )
    with bad_input():
        runner_share(total, processes or default_processes(), web=not no_web)
    return (None, total) if no_web else (WEB_SHARE, total - WEB_SHARE)


@click.command()
@click.argument("app_ref", metavar="[APP]", required=False)
@store_option
@host_option
@port_option
@token_option
def web(app_ref: str | None, store: str | None, host: str, port: int, token: str | None) -> None:
    """Serve the dashboard and HTTP API alone (no workers run here) until Ctrl-C."""
    app = open_app(store, app_ref)
    from .._web import check_bind

    with bad_input():
        check_bind(host, token)
    server = _start_web(app, host, port, token)
    click.echo(
        f"conveyor: dashboard and API on {server.url} (store {safe_url(app.url)}); Ctrl-C to stop", err=True
    )
    with stop_signals() as stop:
        stop.wait()
    server.stop()


@click.command()
@host_option
@opt(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    envvar="CONVEYOR_PORT",
    help="Port for the dashboard (0: any free port).",
)
@opt(
    "--rate",
    type=click.FloatRange(min=0.1, max=1000),
    default=4.0,
    show_default=True,
    envvar="CONVEYOR_DEMO_RATE",
    help="Events emitted per second.",
)
@opt(
    "--seconds",
    type=click.FloatRange(min=0),
    default=None,
    envvar="CONVEYOR_DEMO_SECONDS",
    help="Stop after this many seconds (default: run until Ctrl-C).",
)
@opt("--processes", type=click.IntRange(1, 16), default=1, show_default=True, help="Runner processes.")
@token_option
def demo(  # noqa: PLR0917
    host: str, port: int, rate: float, seconds: float | None, processes: int, token: str | None
) -> None:
    """Run a demo app on SQLite in a temporary folder, feed it events, and serve its dashboard."""
    from .._demo import run_demo

    with bad_input():
        run_demo(host=host, port=port, rate=rate, seconds=seconds, token=token or "", processes=processes)
