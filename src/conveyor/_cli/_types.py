"""Argument types checked by click before any store is opened: bad input exits 2 and creates nothing."""

from __future__ import annotations

from typing import Any

import click

from .._app import MAX_ID
from .._emitter import check_delay
from .._registry import check_worker_name


class WorkerName(click.ParamType[str]):
    """A worker name, by the same rule as ``@app.worker``."""

    name = "worker"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_worker_name(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class MessageId(click.ParamType[int]):
    """A message id: plain ASCII digits (no sign, spaces, underscores or other scripts' digits),
    from 1 to 2**63 - 1."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            self.fail(f"a message id is plain digits, not {type(value).__name__}", param, ctx)
        if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
            self.fail(f"a message id is plain digits from 1 to {MAX_ID}, not {text[:40]!r}", param, ctx)
        return int(text)


class Delay(click.ParamType[float]):
    """Seconds before a message is due: a number from 0 to the bound ``App.emit`` keeps (10 years)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r:.40} is not a number of seconds", param, ctx)
        try:
            return check_delay(seconds, "a delay")
        except ValueError as error:
            self.fail(str(error), param, ctx)


WORKER = WorkerName()
DELAY = Delay()
MESSAGE_ID = MessageId()
