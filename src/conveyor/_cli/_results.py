"""``conveyor result ID``: a message's kept result (docs/results.md), waiting for it with ``--wait``."""

from __future__ import annotations

import click
import orjson

from .._results import finished_json
from ._common import bad_input, json_option, open_app, opt, print_json, store_option
from ._types import MESSAGE_ID

__all__ = ["PENDING_EXIT", "result"]

PENDING_EXIT = 3
"""The exit status while the message has not finished (1: it failed or nothing is known of it)."""


@click.command()
@click.argument("message_id", metavar="ID", type=MESSAGE_ID)
@opt(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for the message to finish (woken by the store, not polling).",
)
@store_option
@json_option
def result(message_id: int, wait: float, store: str | None, as_json: bool) -> int:
    """The return value of message ID (a worker with results=). Exits 0 with the value, 1 if the
    message ended as a dead letter or was cancelled (or nothing is known of it), 3 if it has not
    finished within --wait seconds."""
    app = open_app(store, create=False)
    with bad_input():
        found = app.results_hub.wait(message_id, wait)
    shown = finished_json(message_id, found)
    status = {"ok": 0, "pending": PENDING_EXIT}.get(shown["state"], 1)
    if as_json:
        print_json(shown)
        return status
    state = shown["state"]
    if state == "ok":
        if shown["repr"]:
            click.echo(f"(not JSON: the return value's repr) {shown['value']}", err=True)
            click.echo(shown["value"])
        else:
            click.echo(orjson.dumps(shown["value"], option=orjson.OPT_INDENT_2).decode())
    elif state == "pending":
        click.echo(f"message {message_id} has not finished (waited {wait:g} s)", err=True)
    elif state == "unknown":
        click.echo(
            f"no message {message_id} and no kept result (never emitted, cancelled or discarded, its "
            "worker keeps no results, or its result expired)",
            err=True,
        )
    else:
        what = "was cancelled" if state == "cancelled" else "ended as a dead letter"
        click.echo(f"message {message_id} {what}: {shown['error']}", err=True)
    return status
