"""What a store's change hints have in common: ``wait`` for one, and an optional direct callback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["HintWaiter"]


class HintWaiter:
    """The shared half of every store's wake-ups: a pending flag and at most one waiting future, fed by
    ``_hint`` from the store's hint source (inotify, LISTEN) on the event loop."""

    def __init__(self) -> None:
        self._pending = False
        self._waiter: asyncio.Future[bool] | None = None
        self._callback: Callable[[], None] | None = None

    def on_hint(self, callback: Callable[[], None] | None) -> None:
        """Also call ``callback`` (on the loop) at each hint, without waiting for ``wait`` to return:
        one loop iteration less between a commit elsewhere and a runner claiming."""
        self._callback = callback

    def _hint(self) -> None:
        if self._callback is not None:
            self._callback()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)
        else:
            self._pending = True

    async def _wait(self, timeout: float) -> bool:
        if self._pending:
            self._pending = False
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(max(0.0, timeout), _resolve, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None
            self._pending = False


def _resolve(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
