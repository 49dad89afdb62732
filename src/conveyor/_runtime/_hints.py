"""How an idle runner hears of new work: the store's wake-up hints (the SQLite file hint, PostgreSQL
LISTEN/NOTIFY), staggered between runner processes, and a poll when no hint comes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .._stores import Store
from .._stores._base import Wakeups

if TYPE_CHECKING:
    from ._runner import RunnerOptions

__all__ = ["Hints"]

log = logging.getLogger("conveyor.runner")


class Hints:
    """The hint listening of ``Runner`` (a mixin: it wakes the runner's loop)."""

    id: str
    options: RunnerOptions
    store: Store
    _inflight: dict[int, Any]
    _hinted: bool

    if TYPE_CHECKING:  # the runner's own

        def wake(self) -> None: ...

    def _open_wakeups(self) -> Wakeups | None:
        opener = getattr(self.store, "wakeups", None)
        if opener is None:
            return None
        try:
            return opener()  # type: ignore[no-any-return]
        except Exception as error:
            log.warning(
                "runner %s: no wake-up hints from the store (%s); polling every %g s",
                self.id,
                error,
                self.options.poll,
            )
            return None

    def _hint_delayed(self) -> bool:
        return bool(self.options.hint_delay) and not self._inflight

    def _on_hint(self) -> None:
        """Straight from the store's hint source, on the loop: wake now unless this runner waits its turn."""
        self._hinted = True
        if not self._hint_delayed():
            self.wake()

    async def _listen(self, wakeups: Wakeups | None, direct: bool) -> None:
        """Turn store hints (and, without one for ``poll`` seconds, a timeout) into loop wake-ups.

        ``direct``: the hint source already calls ``_on_hint``; only delayed hints and polls remain."""
        while True:
            if wakeups is None:
                await asyncio.sleep(self.options.poll)
            elif await wakeups.wait(self.options.poll):
                if self._hint_delayed():
                    # Idle runners all hear every emit; the first (delay 0) claims, the others look
                    # a moment later instead of racing it for the write lock and the CPU.
                    await asyncio.sleep(self.options.hint_delay)
                elif direct:
                    continue
            self._hinted = True  # a hint or a poll: an idle runner asks again when the next message is due
            self.wake()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.wake()
