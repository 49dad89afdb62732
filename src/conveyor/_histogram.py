"""A small mergeable histogram of durations: fixed log-scale buckets, so that histograms kept by many
runners on many hosts merge by adding their counts, bucket by bucket.

Bucket 0 holds durations under ``LOWEST`` (10 µs); bucket ``i`` ≥ 1 holds ``LOWEST·2^((i-1)/4)`` up to
``LOWEST·2^(i/4)``: four buckets per doubling, up to ``TOP`` (past 11 days, where the last bucket holds
everything longer). A percentile read from it is the geometric middle of its bucket: within 9 % of the
true value (``2^(1/8)``). A histogram is a ``dict`` of bucket index to count, holding non-empty buckets
only, and travels as a JSON object (``{"37": 12}``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import orjson

__all__ = [
    "HUGE",
    "LOWEST",
    "SHIFT",
    "STEPS",
    "TOP",
    "Histogram",
    "bucket",
    "decode",
    "encode",
    "merge_into",
    "percentile",
    "total",
    "value_of",
]

Histogram = dict[int, int]

LOWEST = 1e-5
"""Seconds: durations shorter than this share bucket 0."""
STEPS = 4
"""Buckets per doubling."""
TOP = 1 + STEPS * 40
"""The last bucket (durations from ``LOWEST·2^40``, about 127 days, up: all there)."""
_log2 = math.log2
SHIFT = 1 - STEPS * _log2(LOWEST)
"""A duration's bucket from ``LOWEST`` up is ``int(log2(seconds) * STEPS + SHIFT)``."""
HUGE = LOWEST * 2 ** ((TOP - 1) / STEPS)
"""Where bucket ``TOP`` starts."""


def bucket(seconds: float) -> int:
    """The bucket of a duration (negative ones count in bucket 0, NaN and infinite ones in ``TOP``)."""
    return int(_log2(seconds) * STEPS + SHIFT) if LOWEST <= seconds < HUGE else 0 if seconds < LOWEST else TOP


def value_of(index: int) -> float:
    """The duration a bucket stands for: the geometric middle of its bounds (half ``LOWEST`` for 0)."""
    if index <= 0:
        return LOWEST / 2
    return float(LOWEST * 2 ** ((index - 0.5) / STEPS))


def merge_into(total: Histogram, other: Mapping[int, int]) -> Histogram:
    """Add ``other``'s counts to ``total`` (in place) and return it."""
    for index, n in other.items():
        total[index] = total.get(index, 0) + n
    return total


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0 < q ≤ 1) by nearest rank; None when the histogram is empty."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return value_of(index)
    return value_of(max(histogram))


def encode(histogram: Mapping[int, int]) -> str:
    return orjson.dumps({str(i): n for i, n in sorted(histogram.items()) if n}).decode()


def decode(text: str | bytes | Mapping[str, int] | None) -> Histogram:
    """A histogram from its JSON object (text, or already parsed: PostgreSQL's jsonb). Entries that are
    not a bucket index and a positive count are left out."""
    if text is None:
        return {}
    raw = orjson.loads(text) if isinstance(text, str | bytes) else text
    if not isinstance(raw, dict):
        return {}
    out: Histogram = {}
    for key, n in raw.items():
        if isinstance(key, str) and key.isdigit() and type(n) is int and n > 0:
            out[min(int(key), TOP)] = out.get(min(int(key), TOP), 0) + n
    return out


def total(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    out: Histogram = {}
    for h in histograms:
        merge_into(out, h)
    return out
