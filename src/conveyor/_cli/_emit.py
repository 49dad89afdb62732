"""``conveyor emit``: one event to one worker, from the argument or stdin."""

from __future__ import annotations

import sys

import click
import orjson

from ._common import bad_input, emit_quietly, open_app, opt, store_option
from ._types import WORKER


@click.command()
@click.argument("worker", type=WORKER)
@click.argument("event_json", metavar="[JSON]", required=False)
@store_option
@opt("--delay", type=click.FloatRange(min=0), help="Seconds before it is due.")
@opt("--key", help="Dedup key: no-op while a message with this key is queued or running.")
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
    app = open_app(store)
    with bad_input():
        message_id = emit_quietly(app, event, worker, delay, key)
    click.echo(message_id)
