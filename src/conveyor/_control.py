"""Handler control: what a handler raises to say how its message goes on (docs/flow-control.md).

``Incomplete`` sends the message back without using an attempt, ``Retry`` fails this attempt with a
chosen delay instead of the backoff, ``Cancel`` makes it a dead letter at once. Each has its own trace
outcome and none is logged as an error. ``max_snoozes`` (a worker option read here) caps how many times
``Incomplete`` may send one message back.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_SNOOZES", "Cancel", "Incomplete", "Retry", "check_max_snoozes", "snoozed_out"]

DEFAULT_MAX_SNOOZES = 1000


class Incomplete(Exception):
    """Raise inside a handler: the worker is not finished with this message yet.

    The message goes back to the queue and runs again after ``delay`` seconds (None: the app's
    ``incomplete_delay``, default 5 minutes) without using one of its attempts. Each time counts in
    ``Message.snoozes``; past the worker's ``max_snoozes`` (default 1,000) the message is a dead letter.
    """

    def __init__(self, *args: object, delay: float | None = None) -> None:
        super().__init__(*args)
        self.delay = _seconds(delay, "Incomplete(delay=)")


class Retry(Exception):
    """Raise inside a handler: this attempt failed; run the next one after ``delay`` seconds instead of
    the worker's backoff (None: the backoff). It uses an attempt: after ``max_attempts`` the message is a
    dead letter."""

    def __init__(self, *args: object, delay: float | None = None) -> None:
        super().__init__(*args)
        self.delay = _seconds(delay, "Retry(delay=)")


class Cancel(Exception):
    """Raise inside a handler: give up on this message. It becomes a dead letter at once, whatever
    attempts are left, with ``reason`` as its ``last_error`` (it can still be retried from the dead
    letters like any other)."""

    def __init__(self, reason: str) -> None:
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"Cancel needs a reason: a non-empty str, not {reason!r:.40}")
        super().__init__(reason)
        self.reason = reason


def _seconds(delay: object, what: str) -> float | None:
    from ._emitter import check_delay  # the emit's rule (_emitter imports the registry, which imports this)

    return None if delay is None else check_delay(delay, what)


def check_max_snoozes(value: object) -> int:
    """The ``max_snoozes=`` worker option: an int >= 0, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_snoozes must be an int >= 0, not {value!r:.40}")
    return value


def snoozed_out(snoozes: int, max_snoozes: int) -> str | None:
    """The dead letter's reason when one more ``Incomplete`` would pass ``max_snoozes``, else None."""
    if snoozes < max_snoozes:
        return None
    return (
        f"Incomplete: sent back {snoozes} times, the worker's max_snoozes ({max_snoozes}); now a dead letter"
    )
