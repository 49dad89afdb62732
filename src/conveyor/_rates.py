"""Global rate limits (docs/flow-control.md): at most N starts of a worker per period, across every runner
and host, in bursts of up to N.

The store keeps one row per limited worker: its theoretical arrival time ``tat`` (GCRA, the generic cell
rate algorithm). Each start moves ``tat`` on by one interval (period / N); a claim may start as many
messages as fit before ``tat`` would run more than one period ahead of now. The claim reads and moves
``tat`` in its own transaction, so runners on many hosts share one budget, and a message held back stays
queued and uses no attempt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["MAX_RATE_PERIOD", "Rate", "RateSpec", "parse_rate"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TEXT = re.compile(r"\s*(\d{1,10})\s*/\s*([smhd])\s*")
MAX_RATE_N = 1_000_000_000
MAX_RATE_PERIOD = 366 * 86400.0
"""The longest period a rate may have (a year)."""


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``n`` starts per ``period`` seconds, bursts up to ``n``."""

    n: int
    period: float

    @property
    def interval(self) -> float:
        """Seconds one start moves the bucket's ``tat`` on."""
        return self.period / self.n

    def room(self, tat: float | None, now: float) -> int:
        """Starts allowed at ``now`` for a bucket at ``tat`` (None: never used), 0 to ``n``."""
        ahead = 0.0 if tat is None else max(tat - now, 0.0)
        return max(0, min(self.n, math.floor((self.period - ahead) / self.interval + 1e-9)))

    def next_start(self, tat: float | None, now: float) -> float:
        """Seconds from ``now`` until the bucket allows a start (0: it does now)."""
        if tat is None:
            return 0.0
        return max(0.0, tat - self.period + self.interval - now)

    def __str__(self) -> str:
        for unit, seconds in _UNITS.items():
            if self.period == seconds:
                return f"{self.n}/{unit}"
        return f"{self.n}/{self.period:g}s"


RateSpec = str | tuple[int, float] | Rate
"""What ``@app.worker(rate=...)`` takes: ``"N/s"``, ``"N/m"``, ``"N/h"``, ``"N/d"`` or ``(N, seconds)``."""


def parse_rate(value: object) -> Rate:
    """``value`` as a Rate, or a ValueError saying what a rate is."""
    if isinstance(value, Rate):
        return value
    rule = '"N/s", "N/m", "N/h", "N/d" or (N, seconds), with N an int from 1'
    if isinstance(value, str):
        match = _TEXT.fullmatch(value)
        if match is None:
            raise ValueError(f"rate must be {rule}, not {value!r:.60}")
        n, period = int(match[1]), _UNITS[match[2]]
    elif isinstance(value, tuple) and len(value) == 2:
        n, period = value
        if (
            isinstance(period, bool)
            or not isinstance(period, int | float)
            or not 0 < period <= MAX_RATE_PERIOD
        ):
            raise ValueError(
                f"rate period must be seconds > 0, at most {MAX_RATE_PERIOD:g}, not {period!r:.40}"
            )
    else:
        raise ValueError(f"rate must be {rule}, not {value!r:.60}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RATE_N:
        raise ValueError(f"rate N must be an int from 1 to {MAX_RATE_N:,}, not {n!r:.40}")
    return Rate(n, float(period))
