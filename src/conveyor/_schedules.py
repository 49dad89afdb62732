"""Schedules: a worker emitted to on a cron or an interval, defined in the app's code.

``ScheduleSpec`` is one checked definition; ``Schedules`` holds an app's (the registry carries it to
the runners, whose ticker emits the ticks); ``ScheduleStatus`` is what ``app.schedules()`` reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from ._registry import check_worker_name
from ._timing import Timing
from ._typed import encoded

__all__ = ["MISFIRES", "Misfire", "ScheduleSpec", "ScheduleStatus", "Schedules", "check_schedule_name"]

Misfire = Literal["latest", "all", "skip"]
MISFIRES: tuple[str, ...] = ("latest", "all", "skip")
MAX_EVENT_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """A schedule as ``app.schedules()`` reports it. ``last_at``: the newest tick emitted; ``next_at``:
    the next tick (None while paused). Times are aware UTC datetimes."""

    name: str
    worker: str
    cron: str | None
    every: float | None
    tz: str
    misfire: str
    paused: bool
    last_at: datetime | None
    next_at: datetime | None


def check_schedule_name(name: object) -> str:
    """A schedule name follows the worker-name rule; ValueError otherwise."""
    try:
        return check_worker_name(name)
    except ValueError:
        raise ValueError(
            f"invalid schedule name {name!r:.60}: the same rule as worker names "
            "(1-200 characters of letters, digits and _ . : / -, starting with a letter or digit)"
        ) from None


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """One checked schedule definition. ``event``: the encoded event, or None for the default
    ``{"schedule": name, "at": "<tick as ISO-8601 UTC>"}``."""

    name: str
    worker: str
    timing: Timing
    misfire: str
    event: bytes | None

    @classmethod
    def build(
        cls,
        name: str,
        worker: str,
        event: Any = None,
        *,
        cron: str | None = None,
        every: float | None = None,
        tz: str = "UTC",
        misfire: str = "latest",
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> ScheduleSpec:
        check_schedule_name(name)
        check_worker_name(worker)
        if misfire not in MISFIRES:
            raise ValueError(f"misfire must be one of {', '.join(MISFIRES)}, not {misfire!r:.40}")
        timing = Timing(cron, every, tz)
        data = None if event is None else encoded(event, max_event_bytes)[0]  # a model or dataclass too
        return cls(name, worker, timing, misfire, data)

    @property
    def cron(self) -> str | None:
        return self.timing.cron

    @property
    def every(self) -> float | None:
        return self.timing.every

    @property
    def tz(self) -> str:
        return self.timing.tz

    def event_at(self, tick: float) -> bytes:
        """The event of the message for ``tick``."""
        if self.event is not None:
            return self.event
        return orjson.dumps({"schedule": self.name, "at": iso_utc(tick)})

    def key_at(self, tick: float) -> str:
        """The message key of ``tick``: ``schedule:<name>:<tick epoch seconds>``."""
        return f"schedule:{self.name}:{tick_text(tick)}"


def tick_text(tick: float) -> str:
    return str(int(tick)) if float(tick).is_integer() else repr(float(tick))


def iso_utc(tick: float) -> str:
    return datetime.fromtimestamp(tick, UTC).isoformat().replace("+00:00", "Z")


class Schedules:
    """The schedules one app defines, by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ScheduleSpec] = {}

    def add(self, spec: ScheduleSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"schedule {spec.name!r} is already defined in this app")
        self._specs[spec.name] = spec

    def get(self, name: str) -> ScheduleSpec | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ScheduleSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)
