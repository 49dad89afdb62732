"""Commands that steer queues: pause, resume, block, unblock, cancel, purge, retry and discard."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ._common import bad_input, open_app, opt, progress, store_option
from ._types import MESSAGE_ID, WORKER

if TYPE_CHECKING:
    from .._app import App


def _rule_command(name: str, doc: str, action: Callable[[App, str], None], done: str) -> click.Command:
    @click.command(name=name, help=doc)
    @click.argument("worker", type=WORKER)
    @store_option
    def command(worker: str, store: str | None) -> None:
        app = open_app(store)
        with bad_input():
            action(app, worker)
        click.echo(f"{done} {worker}")

    return command


pause = _rule_command(
    "pause", "Stop claiming WORKER's messages (in-flight ones finish).", lambda a, w: a.pause(w), "paused"
)
resume = _rule_command("resume", "Claim WORKER's messages again.", lambda a, w: a.resume(w), "resumed")
unblock = _rule_command("unblock", "Lift a block from WORKER.", lambda a, w: a.unblock(w), "unblocked")


@click.command()
@click.argument("worker", type=WORKER)
@opt("--reason", required=True, help="Why (shown with the worker's status).")
@store_option
def block(worker: str, reason: str, store: str | None) -> None:
    """Block WORKER: its messages are held until it is unblocked."""
    app = open_app(store)
    with bad_input():
        app.block(worker, reason)
    click.echo(f"blocked {worker}")


@click.command()
@click.argument("message_id", metavar="ID", type=MESSAGE_ID)
@store_option
def cancel(message_id: int, store: str | None) -> None:
    """Remove a queued or scheduled message. Exits 1 if it is not queued or scheduled."""
    app = open_app(store)
    with bad_input():
        removed = app.cancel(message_id)
    if not removed:
        raise click.ClickException(
            f"message {message_id} is not queued or scheduled (running, dead, done or unknown)"
        )
    click.echo(f"cancelled {message_id}")


@click.command()
@click.argument("worker", type=WORKER)
@store_option
@opt("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def purge(worker: str, store: str | None, yes: bool) -> None:
    """Remove every queued and scheduled message of WORKER."""
    app = open_app(store)
    with bad_input():
        status = app.status().get(worker)
        waiting = 0 if status is None else status.queued + status.scheduled
        if waiting and not yes and sys.stdin is not None and sys.stdin.isatty():
            click.confirm(f"remove {waiting} queued/scheduled message(s) of {worker}?", abort=True)
        with progress() as bar:
            task = bar.add_task(f"purging {worker}", total=max(waiting, 1))
            removed = app.purge(worker)
            bar.update(task, completed=max(waiting, 1))
    click.echo(f"purged {removed} message(s) of {worker}")


def _dead_command(name: str, verb: str, doc: str) -> click.Command:
    @click.command(name=name, help=doc)
    @click.argument("message_id", metavar="[ID]", type=MESSAGE_ID, required=False)
    @opt("--worker", "-w", type=WORKER, help="All dead letters of this worker.")
    @store_option
    def command(message_id: int | None, worker: str | None, store: str | None) -> None:
        if (message_id is None) == (worker is None):
            raise click.UsageError(f"give a message ID or --worker W (one of them) to {name}")
        app = open_app(store)
        method = app.retry_dead if name == "retry" else app.discard_dead
        with bad_input():
            if message_id is not None:
                count = method(id=message_id)
            else:
                ids = [m.id for m in app.dead(worker)]
                count = 0
                with progress() as bar:
                    task = bar.add_task(f"{name} {worker}", total=len(ids))
                    for one in ids:
                        count += method(id=one)
                        bar.advance(task)
                count += method(worker=worker)  # any that died while we went
        if message_id is not None and count == 0:
            raise click.ClickException(f"message {message_id} is not a dead letter")
        click.echo(f"{verb} {count} dead letter(s)")

    return command


retry = _dead_command(
    "retry", "retried", "Queue dead letters again with fresh attempts: one ID, or all of --worker."
)
discard = _dead_command("discard", "discarded", "Delete dead letters: one ID, or all of --worker.")
