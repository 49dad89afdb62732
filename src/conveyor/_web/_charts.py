"""The dashboard's charts: the runners' per-minute stats as the series uPlot draws.

A chart range is the last hour in minutes or the last day in 10-minute steps. The store adds the
stats up per step in SQL (``Store.stats_series``): runs finished and failed, and the wait-time
histograms merged, whose p95 is read here (the same histograms and percentile as ``app.stats``). On
the overview each chart has a "total" series and one per worker for the ``TOP`` workers that processed
most in the last hour; on a worker's page, that worker alone. Steps without stats are zeros (no work).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .._histogram import percentile
from .._stores._series import Point

__all__ = ["CHARTS", "TOP", "busiest", "chart_data", "since", "step_of"]

TOP = 5
# (id, title, unit)
CHARTS = (
    ("throughput", "Processed", "messages"),
    ("failures", "Failed", "messages"),
    ("wait", "Wait time p95", "seconds"),
)


def step_of(minutes: int) -> int:
    return 60 if minutes <= 60 else 600


def since(minutes: int, now: float | None = None) -> int:
    """The first minute (Unix seconds) of the last ``minutes`` minutes, the current one included."""
    now = time.time() if now is None else now
    return (int(now) // 60 - minutes + 1) * 60


def _values(points: Mapping[int, Point], x: list[int], chart: str) -> list[float]:
    out: list[float] = []
    for at in x:
        point = points.get(at)
        if point is None:
            out.append(0)
        elif chart == "throughput":
            out.append(point.processed)
        elif chart == "failures":
            out.append(point.failed)
        else:
            out.append(round(percentile(point.wait, 0.95) or 0.0, 6))
    return out


def chart_data(
    total: Mapping[int, Point],
    workers: Mapping[str, Mapping[int, Point]],
    minutes: int,
    label: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The charts' JSON: ``{"step", "x", "charts": [{"id", "title", "unit", "series": [{"label",
    "values"}]}]}``; ``x`` are the steps' starts in Unix seconds."""
    now = time.time() if now is None else now
    step = step_of(minutes)
    first = since(minutes, now) // step * step
    x = list(range(first, int(now) // step * step + 1, step))
    charts = []
    for chart_id, title, unit in CHARTS:
        series = [{"label": label, "values": _values(total, x, chart_id)}]
        series += [
            {"label": name, "values": _values(points, x, chart_id)} for name, points in workers.items()
        ]
        charts.append({"id": chart_id, "title": title, "unit": unit, "series": series})
    return {"step": step, "x": x, "charts": charts}


def busiest(sums: Mapping[str, tuple[int, int]]) -> list[str]:
    """The ``TOP`` workers that processed most (ties by name), of those that processed any."""
    ranked = sorted((w for w, (p, _) in sums.items() if p > 0), key=lambda w: (-sums[w][0], w))
    return ranked[:TOP]
