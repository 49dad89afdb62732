"""Read commands: status (optionally live), traces, messages, dead letters and unknown workers."""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson

from .._message import STATES
from ._common import (
    bad_input,
    compact,
    console,
    json_option,
    message_table,
    messages_table,
    open_app,
    opt,
    print_json,
    safe_url,
    status_table,
    stop_signals,
    store_option,
    table,
    traces_table,
    when,
)
from ._types import MESSAGE_ID, WORKER

if TYPE_CHECKING:
    from .._app import App


@click.command()
@store_option
@json_option
@opt(
    "--watch",
    is_flag=True,
    help="Keep the table on screen, updated live, until Ctrl-C or SIGTERM (piped: a table per update).",
)
@opt(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    envvar="CONVEYOR_WATCH_INTERVAL",
    help="Seconds between updates with --watch.",
)
def status(store: str | None, as_json: bool, watch: bool, interval: float) -> None:
    """Every worker with queued / scheduled / running / dead counts and its state."""
    app = open_app(store, create=False)
    if not watch:
        statuses = list(app.status().values())
        if as_json:
            print_json(statuses)
        else:
            console().print(status_table(statuses) if statuses else "no workers")
        return
    with stop_signals() as stop:
        try:
            _watch(app, as_json, interval, stop)
        except BrokenPipeError:  # the reader went away (``| head``): stop, with nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _watch(app: App, as_json: bool, interval: float, stop: threading.Event) -> None:
    """Status every ``interval`` until ``stop``: a JSON line each, a table each when stdout is not a
    terminal, else one table kept on screen."""
    if as_json:
        while True:
            click.echo(
                orjson.dumps({"at": datetime.now(UTC), "workers": list(app.status().values())}).decode()
            )
            if stop.wait(interval):
                return
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    def frame(hint: str) -> Group:
        stamp = Text(f"{when(datetime.now(UTC))} UTC · {safe_url(app.url)}{hint}", style="dim")
        return Group(stamp, status_table(list(app.status().values())))

    out = console()
    if not sys.stdout.isatty():
        while True:
            out.print(frame(""))
            out.print()
            out.file.flush()
            if stop.wait(interval):
                return
    with Live(frame(" · Ctrl-C to stop"), console=out, auto_refresh=False) as live:
        while not stop.wait(interval):
            live.update(frame(" · Ctrl-C to stop"), refresh=True)


@click.command()
@click.argument("worker", type=WORKER)
@store_option
@json_option
def traces(worker: str, store: str | None, as_json: bool) -> None:
    """The last traces of WORKER, newest first."""
    app = open_app(store, create=False)
    with bad_input():
        found = app.traces(worker)
    if as_json:
        print_json(found)
    else:
        console().print(traces_table(found) if found else f"no traces of {worker}")


@click.command()
@click.argument("worker", type=WORKER, required=False)
@opt("--state", type=click.Choice(STATES), help="Only messages in this state.")
@opt("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="At most this many.")
@store_option
@json_option
def messages(worker: str | None, state: str | None, limit: int, store: str | None, as_json: bool) -> None:
    """Messages, oldest first: all, or WORKER's."""
    app = open_app(store, create=False)
    with bad_input():
        found = app.messages(worker, state, limit)  # type: ignore[arg-type]
    if as_json:
        print_json(found)
    else:
        console().print(messages_table(found) if found else "no messages")


@click.command()
@click.argument("message_id", metavar="ID", type=MESSAGE_ID)
@store_option
@json_option
def message(message_id: int, store: str | None, as_json: bool) -> None:
    """One message (queued, scheduled, running or dead) with all its fields. Exits 1 if there is none."""
    app = open_app(store, create=False)
    with bad_input():
        found = app.message(message_id)
    if found is None:
        raise click.ClickException(
            f"no message {message_id} (finished, cancelled, discarded or never emitted)"
        )
    if as_json:
        print_json(found)
    else:
        console().print(message_table(found))


@click.command()
@click.argument("worker", type=WORKER, required=False)
@store_option
@json_option
def dead(worker: str | None, store: str | None, as_json: bool) -> None:
    """Dead letters: all, or WORKER's."""
    app = open_app(store, create=False)
    with bad_input():
        found = app.dead(worker)
    if as_json:
        print_json(found)
    else:
        console().print(messages_table(found) if found else "no dead letters")


@click.command()
@store_option
@json_option
def unknown(store: str | None, as_json: bool) -> None:
    """Workers emitted to that no running app defines (the "404" list)."""
    app = open_app(store, create=False)
    found = app.unknown()
    if as_json:
        print_json(found)
        return
    if not found:
        console().print("no unknown workers")
        return
    out = table("worker", "count", "first emit", "last emit", "sample event")
    for u in found:
        out.add_row(u.name, str(u.count), when(u.first_emit), when(u.last_emit), compact(u.sample_event))
    console().print(out)
