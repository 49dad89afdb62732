"""Serving in this process until SIGINT/SIGTERM (the supervisor of many processes builds on this)."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._app import App

__all__ = ["serve_in_process"]


def serve_in_process(app: App, processes: int | None = None, concurrency: int | None = None, grace: float = 30.0) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.runner(concurrency).serve(stop, grace=grace)

    asyncio.run(main())
