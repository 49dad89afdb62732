"""The dashboard's stats reads (``stats_series*.sql``, ``stats_sums.sql``): sums made in SQL, so that a
chart over 1,000 workers decodes no row's histogram in Python. Shared by both stores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Point", "points"]


@dataclass(slots=True)
class Point:
    """One step of a chart: runs finished and failed, and the wait histogram (bucket index -> count)."""

    processed: int = 0
    failed: int = 0
    wait: dict[int, int] = field(default_factory=dict)


def points(rows: Iterable[Sequence[Any]]) -> dict[int, Point]:
    """``(at, bucket, a, b)`` rows: bucket NULL: (processed, failed) = (a, b); else a wait bucket's count."""
    out: dict[int, Point] = {}
    for at, index, a, b in rows:
        point = out.get(int(at))
        if point is None:
            point = out[int(at)] = Point()
        if index is None:
            point.processed, point.failed = int(a or 0), int(b or 0)
        elif int(a or 0) > 0:
            point.wait[int(index)] = point.wait.get(int(index), 0) + int(a)
    return out
