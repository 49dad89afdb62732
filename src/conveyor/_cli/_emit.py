"""``conveyor emit``: one event to one worker, from the argument or stdin."""

from __future__ import annotations

import sys

import click

from .._codec import parse_json
from ._common import bad_input, emit_quietly, open_app, opt, store_option
from ._types import DELAY, WORKER


@click.command()
@click.argument("worker", type=WORKER)
@click.argument("event_json", metavar="[JSON]", required=False)
@store_option
@opt("--delay", type=DELAY, help="Seconds before it is due (at most 10 years).")
@opt("--key", help="Dedup key: no-op while a message with this key is queued or running.")
@opt(
    "--priority",
    type=click.IntRange(-100, 100),
    default=0,
    show_default=True,
    help="-100 to 100: higher is claimed first within the worker.",
)
def emit(  # noqa: PLR0917 - click passes the options by name; the order is the command's
    worker: str,
    event_json: str | None,
    store: str | None,
    delay: float | None,
    key: str | None,
    priority: int,
) -> None:
    """Emit an event to WORKER: JSON from the argument, or from stdin when it is omitted or '-'."""
    if event_json is None or event_json == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise click.UsageError("give the event as a JSON argument or on stdin")
        event_json = sys.stdin.read()
    try:
        event = parse_json(event_json)
    except ValueError as error:
        raise click.UsageError(f"the event is refused: {error}") from None
    app = open_app(store)
    with bad_input():
        message_id = emit_quietly(app, event, worker, delay, key, priority)
    click.echo(message_id)
