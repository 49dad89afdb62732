"""Run one handler: async ones on the loop, sync ones in a thread pool; timeouts; outcomes."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .._context import HandlerContext, current
from .._errors import Incomplete
from .._registry import Handler, WorkerSpec

__all__ = ["Executor", "Outcome"]


@dataclass(slots=True)
class Outcome:
    kind: str  # "ok", "error", "incomplete", "timeout"
    result: Any = None
    error: str | None = None
    traceback: str | None = None


def _call_sync(handler: Handler, args: Sequence[Any], ctx: HandlerContext) -> Any:
    token = current.set(ctx)
    try:
        return handler(*args)
    finally:
        current.reset(token)


class Executor:
    """Executes handlers for one runner with at most ``slots`` threads for sync handlers."""

    def __init__(self, slots: int) -> None:
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="conveyor-handler")
        self.stuck = 0
        """Sync handlers that passed their timeout and still hold a thread."""

    async def execute(self, spec: WorkerSpec, args: Sequence[Any], ctx: HandlerContext) -> Outcome:
        try:
            if spec.is_async:
                result = await self._run_async(spec, args, ctx)
            else:
                result = await self._run_sync(spec, args, ctx)
        except _TimedOut:
            return Outcome("timeout", error=f"TimeoutError: the handler ran past its timeout of {spec.timeout:g} s")
        except Incomplete as exc:
            return Outcome("incomplete", error=f"Incomplete: {exc}" if str(exc) else "Incomplete")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            return Outcome(
                "error",
                error=f"{type(exc).__name__}: {exc}",
                traceback="".join(traceback.format_exception(exc)),
            )
        return Outcome("ok", result)

    async def _run_async(self, spec: WorkerSpec, args: Sequence[Any], ctx: HandlerContext) -> Any:
        token = current.set(ctx)
        try:
            if spec.timeout is None:
                return await spec.handler(*args)
            scope = asyncio.timeout(spec.timeout)
            try:
                async with scope:
                    return await spec.handler(*args)
            except TimeoutError:
                if scope.expired():
                    raise _TimedOut from None
                raise  # the handler's own TimeoutError is an ordinary error
        finally:
            current.reset(token)

    async def _run_sync(self, spec: WorkerSpec, args: Sequence[Any], ctx: HandlerContext) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._threads, _call_sync, spec.handler, args, ctx)
        if spec.timeout is None:
            return await future
        done, _ = await asyncio.wait((future,), timeout=spec.timeout)
        if not done:
            self.stuck += 1
            future.add_done_callback(self._unstuck)
            raise _TimedOut
        return future.result()

    def _unstuck(self, _future: object) -> None:
        self.stuck -= 1

    def shutdown(self, wait: bool) -> None:
        self._threads.shutdown(wait=wait, cancel_futures=True)


class _TimedOut(Exception):
    pass
