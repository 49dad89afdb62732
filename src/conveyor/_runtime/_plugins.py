"""The runner's plugins: background duties with one shape, started when a runner serves and stopped
when it stops (``drain`` starts none). A plugin's ``run`` loops until cancelled; ``stop`` then signs
it off from the store (blocking). A failing ``stop`` is logged, never fatal to the runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from .._registry import Registry
from .._stores import Store

__all__ = ["Plugin", "plugins_for", "start_plugins", "stop_plugins"]

log = logging.getLogger("conveyor.runner")


class Plugin(Protocol):
    name: str

    async def run(self) -> None:
        """Do the duty until cancelled."""
        ...

    def stop(self) -> None:
        """After ``run`` was cancelled: sign off (blocking)."""
        ...


def plugins_for(registry: Registry, store: Store, runner_id: str, wake: Callable[[], None]) -> list[Plugin]:
    """The plugins a runner of this registry serves with: the ticker when the app has schedules, the
    result pruner when a worker keeps results, and the stats pruner (always). ``wake``: called on the
    loop when a plugin emitted messages (the runner's own writes give it no store hint)."""
    from ._results import ResultPruner
    from ._stats import StatsPruner
    from ._ticker import Ticker

    plugins: list[Plugin] = []
    if len(registry.schedules):
        plugins.append(Ticker(registry.schedules, store, runner_id, on_emit=wake))
    if any(spec.results is not None for spec in registry):
        plugins.append(ResultPruner(store, runner_id))
    plugins.append(StatsPruner(store, runner_id))
    return plugins


def start_plugins(plugins: list[Plugin]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(p.run(), name=f"conveyor-{p.name}") for p in plugins]


def stop_plugins(plugins: list[Plugin], runner_id: str) -> None:
    for plugin in reversed(plugins):
        try:
            plugin.stop()
        except Exception:
            log.exception("runner %s: the %s plugin could not sign off", runner_id, plugin.name)
