"""Serve one runner in this process until SIGTERM/SIGINT (or until it retires).

The first signal stops claiming and lets in-flight handlers finish within the grace period; a second
one releases what is still running at once. Unfinished messages go back to the queue without using an
attempt. Signal handlers are installed only when called from the main thread.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable

from ._runner import RETIRE_STUCK, Runner

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_RETIRED", "EXIT_STUCK", "exit_code", "serve_runner"]

EXIT_OK = 0
EXIT_RETIRED = 3
"""The runner retired on its own (max tasks or memory): start a fresh one."""
EXIT_STUCK = 4
"""A sync handler would not return after its timeout: the process must be replaced."""
EXIT_CONFIG = 78
"""The runner could not load the app (EX_CONFIG): restarting will not help."""


def exit_code(runner: Runner) -> int:
    if runner.exit_reason is None:
        return EXIT_OK
    return EXIT_STUCK if runner.exit_reason == RETIRE_STUCK else EXIT_RETIRED


def serve_runner(
    runner: Runner,
    grace: float = 30.0,
    *,
    on_ready: Callable[[Callable[[], None]], None] | None = None,
) -> int:
    """Run ``runner`` until a signal (main thread only) or ``stop()`` given to ``on_ready``; return the
    process exit code that says why it ended."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        signals = 0

        def on_signal() -> None:
            nonlocal signals
            signals += 1
            stop.set()
            if signals > 1:
                runner.hurry()

        installed = []
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal)
                installed.append(sig)
        if on_ready is not None:

            def stop_soon() -> None:
                loop.call_soon_threadsafe(on_signal)

            on_ready(stop_soon)
        try:
            await runner.serve(stop, grace=grace)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    asyncio.run(main())
    return exit_code(runner)
