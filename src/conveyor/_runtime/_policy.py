"""Retry policy: how long a failed message waits before its next attempt."""

from __future__ import annotations

import random

from .._registry import Backoff

__all__ = ["MAX_BACKOFF", "retry_delay"]

MAX_BACKOFF = 3600.0
JITTER = 0.2


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
