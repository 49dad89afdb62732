"""When a schedule ticks: a cron expression read in a time zone, or every N seconds since the epoch.

Cron is parsed and walked by ``cronsim`` (a maintained library); time zones come from ``zoneinfo``.
DST rules: a local time that does not exist (spring forward) fires at the next valid time; one that
happens twice (fall back) fires once, in its first pass. Ticks are seconds since the epoch.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

__all__ = ["ALIASES", "Timing"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_EVERY = 366 * 86_400.0
"""The longest ``every=`` (a year and a day)."""


class Timing:
    """The ticks of ``cron=`` (5 fields or an alias, read in ``tz``) or ``every=`` (seconds >= 1)."""

    __slots__ = ("_expr", "_zone", "cron", "every", "tz")

    def __init__(self, cron: str | None, every: float | None, tz: str) -> None:
        if (cron is None) == (every is None):
            raise ValueError("give exactly one of cron= and every=")
        self.tz = _zone_name(tz)
        self._zone = ZoneInfo(self.tz)
        self.cron = cron
        self.every: float | None = None
        self._expr = ""
        if cron is not None:
            self._expr = _check_cron(cron)
        else:
            if (
                isinstance(every, bool)
                or not isinstance(every, int | float)
                or not math.isfinite(every)
                or not 1 <= every <= MAX_EVERY
            ):
                raise ValueError(f"every must be seconds >= 1 (at most {MAX_EVERY:,.0f}), not {every!r:.40}")
            self.every = float(every)

    def next_after(self, t: float) -> float:
        """The first tick strictly after ``t``."""
        if self.every is not None:
            return (math.floor(t / self.every) + 1) * self.every
        for at in CronSim(self._expr, datetime.fromtimestamp(t, self._zone)):
            if not _second_pass(at):
                return at.timestamp()
        raise AssertionError("unreachable: a cron iterator never ends")  # pragma: no cover

    def newest(self, after: float, until: float, limit: int) -> list[float]:
        """The newest ``limit`` ticks in ``(after, until]``, oldest first."""
        if limit <= 0 or until <= after:
            return []
        found: list[float] = []
        if self.every is not None:
            k = math.floor(until / self.every)
            while len(found) < limit:
                tick = k * self.every
                if tick <= after:
                    break
                found.append(tick)
                k -= 1
        else:
            start = datetime.fromtimestamp(math.floor(until) + 1, self._zone)
            for at in CronSim(self._expr, start, reverse=True):
                tick = at.timestamp()
                if tick <= after or len(found) >= limit:
                    break
                if tick <= until and not _second_pass(at):
                    found.append(tick)
        found.reverse()
        return found


def _second_pass(at: datetime) -> bool:
    """A local time in the second pass of an hour that happens twice (fall back): not a tick."""
    return at.fold == 1 and at.replace(fold=0).utcoffset() != at.utcoffset()


def _zone_name(tz: object) -> str:
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"tz must be a time zone name such as 'Europe/Paris', not {tz!r:.60}")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone {tz!r:.60}: {error}") from None
    return tz


def _check_cron(cron: object) -> str:
    if not isinstance(cron, str):
        raise ValueError(f"cron must be a str of 5 fields or an alias such as @daily, not {cron!r:.60}")
    text = cron.strip()
    expr = ALIASES.get(text.lower(), text)
    if text.startswith("@") and text.lower() not in ALIASES:
        raise ValueError(f"invalid cron {cron!r:.60}: the aliases are {', '.join(ALIASES)}")
    if len(expr.split()) != 5:
        raise ValueError(f"invalid cron {cron!r:.60}: 5 fields (minute hour day month weekday)")
    try:
        CronSim(expr, datetime.now(ZoneInfo("UTC")))
    except (CronSimError, ValueError) as error:
        raise ValueError(f"invalid cron {cron!r:.60}: {error}") from None
    return expr
