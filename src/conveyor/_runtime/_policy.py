"""Retry policy: how long a failed message waits before its next attempt."""

from __future__ import annotations

import math
import random

from .._emitter import MAX_DELAY
from .._registry import Backoff
from ._settle import safe_repr, text_of

__all__ = ["DEFAULT_BACKOFF", "MAX_BACKOFF", "checked_delay", "retry_delay"]

MAX_BACKOFF = 3600.0
JITTER = 0.2
DEFAULT_BACKOFF = 1.0


def retry_delay(backoff: Backoff, attempt: int) -> float:
    """Seconds before the next attempt after ``attempt`` failed.

    A number is the base: ``base * 2 ** (attempt - 1)``, ±20 % jitter, capped at an hour; 0 retries at
    once. A callable gets the attempt that failed and returns seconds (it is used as it is, but never
    negative).
    """
    if callable(backoff):
        return max(0.0, float(backoff(attempt)))
    if backoff <= 0:
        return 0.0
    delay = min(MAX_BACKOFF, backoff * 2.0 ** min(attempt - 1, 60))
    return min(MAX_BACKOFF, delay * random.uniform(1 - JITTER, 1 + JITTER))


def checked_delay(backoff: Backoff, attempt: int) -> tuple[float, str | None]:
    """``retry_delay`` that survives a ``backoff=`` callable which raises or returns something other
    than seconds from 0 to ``MAX_DELAY`` (what ``emit(delay=)`` takes): then the default backoff applies,
    and the second item says what the callable did (for the message's error). Never raises."""
    if not callable(backoff):
        return retry_delay(backoff, attempt), None
    try:
        value = backoff(attempt)
    except Exception as error:  # user code
        problem = f"backoff({attempt}) raised {type(error).__name__}: {text_of(error)}"
    else:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(value) and 0 <= value <= MAX_DELAY:
            return float(value), None
        problem = f"backoff({attempt}) returned {safe_repr(value)}, not seconds from 0 to {MAX_DELAY:,.0f}"
    return retry_delay(DEFAULT_BACKOFF, attempt), f"{problem}; retried after the default backoff"
