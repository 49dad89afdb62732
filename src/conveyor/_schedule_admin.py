"""What ``app.schedules()``, ``app.pause_schedule`` and ``app.resume_schedule`` do: the app's own
schedules joined with those live runners publish and with the state kept in the store."""

from __future__ import annotations

import time

from ._message import to_datetime
from ._schedules import Schedules, ScheduleStatus, check_schedule_name
from ._stores import Store
from ._stores._base import ScheduleDef
from ._timing import Timing

__all__ = ["schedule_statuses", "set_schedule_paused"]


def schedule_statuses(own: Schedules, store: Store, now: float | None = None) -> list[ScheduleStatus]:
    """The app's schedules and those live runners define (the app's definition wins), by name."""
    now = time.time() if now is None else now
    defs = {d.name: d for d in store.live_schedules()}
    for spec in own:
        defs[spec.name] = ScheduleDef(spec.name, spec.worker, spec.cron, spec.every, spec.tz, spec.misfire)
    states = {s.name: s for s in store.schedule_states()}
    out = []
    for name in sorted(defs):
        d = defs[name]
        state = states.get(name)
        paused = state is not None and state.paused
        last = None if state is None else state.last_at
        next_at = None
        if not paused:
            timing = Timing(d.cron, d.every, d.tz)
            next_at = to_datetime(timing.next_after(max(now, last or now)))
        out.append(
            ScheduleStatus(
                name=d.name,
                worker=d.worker,
                cron=d.cron,
                every=d.every,
                tz=d.tz,
                misfire=d.misfire,
                paused=paused,
                last_at=None if last is None else to_datetime(float(last)),
                next_at=next_at,
            )
        )
    return out


def set_schedule_paused(own: Schedules, store: Store, name: str, paused: bool) -> None:
    """Pause or resume a schedule the app or a live runner defines; LookupError for any other name."""
    check_schedule_name(name)
    if name not in own and name not in {d.name for d in store.live_schedules()}:
        raise LookupError(f"no schedule named {name!r}: neither this app nor a live runner defines it")
    store.set_schedule_paused(name, paused)
