"""The dashboard's charts: per-minute stats (``app.stats``) as the series uPlot draws.

A chart range is the last hour in minutes or the last day in 10-minute steps (144 points). On the
overview each chart has a "total" series (the stats' per-minute totals, ``worker`` None: wait time p95
from every worker's runs together) and one series per worker for the ``TOP`` workers that processed
most in the range; on a worker's page, that worker alone. A 10-minute step adds up the counts and
shows the highest per-minute p95 in it. Minutes without stats are zeros (no work).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

__all__ = ["CHARTS", "TOP", "chart_data"]

TOP = 5
# (id, title, unit, stats field, how steps merge)
CHARTS = (
    ("throughput", "Processed", "messages", "processed", "sum"),
    ("failures", "Failed", "messages", "failed", "sum"),
    ("wait", "Wait time p95", "seconds", "wait_p95", "max"),
)


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def chart_data(
    buckets: Iterable[Any], minutes: int, worker: str | None, now: float | None = None
) -> dict[str, Any]:
    """The charts' JSON: ``{"step", "x", "charts": [{"id", "title", "unit", "series": [{"label",
    "values"}]}]}``; ``x`` are the steps' starts in Unix seconds."""
    step = 60 if minutes <= 60 else 600
    now = time.time() if now is None else now
    last = math.floor(now / step) * step
    count = max(1, minutes * 60 // step)
    first = last - (count - 1) * step
    x = [first + i * step for i in range(count)]
    per_worker: dict[str | None, dict[str, list[float]]] = {}
    for b in buckets:
        if worker is not None and b.worker != worker:
            continue
        at = _epoch(b.minute)
        i = int((at - first) // step)
        if not 0 <= i < count:
            continue
        rows = per_worker.get(b.worker)
        if rows is None:
            rows = per_worker[b.worker] = {field: [0.0] * count for _, _, _, field, _ in CHARTS}
        for _, _, _, field, merge in CHARTS:
            value = float(getattr(b, field) or 0)
            row = rows[field]
            row[i] = row[i] + value if merge == "sum" else max(row[i], value)
    empty = {field: [0.0] * count for _, _, _, field, _ in CHARTS}
    total = per_worker.pop(None, empty) if worker is None else per_worker.get(worker, empty)
    named = [name for name in per_worker if name is not None]
    ranked = sorted(named, key=lambda w: (-sum(per_worker[w]["processed"]), w))[:TOP]
    charts = []
    for chart_id, title, unit, field, _ in CHARTS:
        lines: list[dict[str, Any]] = [{"label": worker or "total", "values": _round(total[field])}]
        if worker is None:
            lines += [{"label": name, "values": _round(per_worker[name][field])} for name in ranked]
        charts.append({"id": chart_id, "title": title, "unit": unit, "series": lines})
    return {"step": step, "x": x, "charts": charts}


def _round(values: list[float]) -> list[float]:
    return [round(v, 6) for v in values]
