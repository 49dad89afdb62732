"""Results (docs/results.md): wait for what a handler returned.

A worker with ``results=seconds`` keeps each message's outcome that long after it finished; the runner
writes it with the settle that finishes the message. ``App.result`` and ``App.aresult`` wait for it.

Waiting is by wake-ups, not polling: one ``ResultHub`` per app runs a thread of its own with one listener
on the store's result hints (the SQLite ``-results`` file, PostgreSQL's results channel) and, at each
hint, looks up every id its waiters wait for in one statement. A thousand waiters in one process cost
that one listener and one statement per hint. The hub's thread starts with the first waiter and ends a
while after the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ._context import current
from ._stores import ResultRow, Store

__all__ = [
    "Failed",
    "Finished",
    "ResultHub",
    "check_results",
    "check_timeout",
    "finished_json",
    "outcome_value",
    "refuse_in_handler",
    "settled",
]

log = logging.getLogger("conveyor.results")

MAX_KEEP = 315_576_000.0
"""The longest ``results=`` (ten years, as the longest delay)."""
LINGER = 10.0
"""Seconds the hub's thread (and its listener) stays up after its last waiter left."""
SAFETY = 5.0
"""Seconds between two looks while waiters wait and no hint came: a hint lost with a store's connection
(or a store that cannot give hints) delays a waiter at most this long."""
CHUNK = 1000
"""Most ids one lookup statement takes."""


class Failed(Exception):
    """The message whose result was asked for ended as a dead letter or was cancelled.

    ``message_id``: its id; ``error``: its last error (for a cancelled one, the reason given);
    ``outcome``: ``"dead"`` or ``"cancelled"``."""

    def __init__(self, message_id: int, error: str | None, outcome: str = "dead") -> None:
        what = "was cancelled" if outcome == "cancelled" else "ended as a dead letter"
        super().__init__(f"message {message_id} {what}: {error}" if error else f"message {message_id} {what}")
        self.message_id = message_id
        self.error = error
        self.outcome = outcome

    def __reduce__(self) -> tuple[Any, ...]:
        return (Failed, (self.message_id, self.error, self.outcome))


@dataclass(frozen=True, slots=True)
class Finished:
    """What became of a message that is no longer alive: ``outcome`` ``"ok"``, ``"dead"``,
    ``"cancelled"`` or ``"unknown"`` (no message and no kept result)."""

    message_id: int
    outcome: str
    value: Any = None
    is_repr: bool = False
    error: str | None = None
    finished_at: datetime | None = None


def check_results(value: object) -> float | None:
    """A worker's ``results=``: seconds > 0 (at most ten years) or None; else ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_KEEP:
        raise ValueError(
            f"results must be seconds > 0 and at most {MAX_KEEP:,.0f} (how long to keep each result), "
            f"or None, not {value!r:.40}"
        )
    return float(value)


def check_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ValueError(f"timeout must be seconds >= 0 or None, not {timeout!r:.40}")
    return None if math.isinf(timeout) else float(timeout)


def refuse_in_handler(timeout: float | None) -> None:
    """Waiting inside a handler can hold every slot of a runner: only a look (``timeout=0``) is allowed."""
    if timeout != 0 and current.get() is not None:
        raise RuntimeError(
            "app.result() cannot wait inside a handler (that can hold every slot of a runner): emit the "
            "next step instead, or use emit_many(..., then=...); timeout=0 only looks, and is allowed"
        )


def settled(row: ResultRow) -> Finished | None:
    """What a lookup row says: None while the message is alive (queued, scheduled or running)."""
    if row.state is not None and row.state != "dead":
        return None
    at = None if row.finished_at is None else datetime.fromtimestamp(row.finished_at, UTC)
    if row.outcome == "ok" and row.state is None:
        value = None if row.value is None else orjson.loads(row.value)
        return Finished(row.message_id, "ok", value, row.is_repr, None, at)
    if row.outcome in ("dead", "cancelled"):
        return Finished(row.message_id, row.outcome, error=row.error, finished_at=at)
    if row.state == "dead":  # a dead letter of a worker without results=: it is still there to say so
        return Finished(row.message_id, "dead", error=row.last_error)
    return Finished(row.message_id, "unknown")


def outcome_value(f: Finished) -> Any:
    """The return value, or the exception ``result`` raises."""
    if f.outcome == "ok":
        return f.value
    if f.outcome in ("dead", "cancelled"):
        raise Failed(f.message_id, f.error, f.outcome)
    raise LookupError(
        f"message {f.message_id}: no such message and no kept result (it never existed, was cancelled "
        f"or discarded while queued, its worker keeps no results, or its result expired)"
    )


def finished_json(message_id: int, f: Finished | None) -> dict[str, Any]:
    """The faces' JSON: ``state`` is ``ok``, ``dead``, ``cancelled``, ``pending`` (still alive) or
    ``unknown``."""
    if f is None:
        return {"id": message_id, "state": "pending"}
    out: dict[str, Any] = {"id": message_id, "state": f.outcome}
    if f.outcome == "ok":
        out["value"] = f.value
        out["repr"] = f.is_repr
    elif f.outcome != "unknown":
        out["error"] = f.error
    if f.finished_at is not None:
        out["finished_at"] = f.finished_at.isoformat()
    return out


Deliver = Callable[[Finished], None]


class _Sub:
    __slots__ = ("deliver", "looked", "message_id")

    def __init__(self, message_id: int, deliver: Deliver, looked: Callable[[], None] | None) -> None:
        self.message_id = message_id
        self.deliver = deliver
        self.looked = looked


class ResultHub:
    """One app's waiters, served by one thread with one listener on the store's result hints."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._subs: dict[int, list[_Sub]] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poke: asyncio.Event | None = None
        self._closed = False
        self.looks = 0
        """Lookup statements run (tests and benchmarks read it)."""

    # -- waiting ---------------------------------------------------------------------------------
    def wait(self, message_id: int, timeout: float | None) -> Finished | None:
        """Block until the message is no longer alive (None: ``timeout`` passed first). It is looked up
        at least once, however short ``timeout``."""
        (row,) = self._store.results([message_id])  # the caller's thread may block: look at once
        found = settled(row)
        if found is not None or timeout == 0:
            return found
        done = threading.Event()
        box: list[Finished] = []

        def deliver(f: Finished) -> None:
            box.append(f)
            done.set()

        leave = self.subscribe(message_id, deliver)
        try:
            done.wait(timeout)
        finally:
            leave()
        return box[0] if box else None

    async def await_(self, message_id: int, timeout: float | None) -> Finished | None:
        """``wait`` for a coroutine: the event loop never blocks (the hub's thread does the lookups)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Finished] = loop.create_future()
        looked: asyncio.Future[Finished | None] = loop.create_future()

        def deliver(f: Finished) -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone
                loop.call_soon_threadsafe(_resolve, future, f)

        def first_look() -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, looked, None)

        leave = self.subscribe(message_id, deliver, first_look)
        try:
            await asyncio.wait({future}, timeout=timeout)
            if not future.done() and not looked.done():  # looked up at least once, however short timeout
                either: set[asyncio.Future[Any]] = {future, looked}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            leave()
        return future.result() if future.done() and not future.cancelled() else None

    def subscribe(
        self, message_id: int, deliver: Deliver, looked: Callable[[], None] | None = None
    ) -> Callable[[], None]:
        """Call ``deliver`` (once, on the hub's thread) when the message is no longer alive, and
        ``looked`` after the first lookup that included it; returns the function that stops waiting."""
        sub = _Sub(message_id, deliver, looked)
        with self._lock:
            if self._closed:
                raise RuntimeError("the app was closed")
            self._subs.setdefault(message_id, []).append(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name="conveyor-results", daemon=True)
                self._thread.start()
            elif self._loop is not None and self._poke is not None:
                self._loop.call_soon_threadsafe(self._poke.set)
        return lambda: self._drop(sub)

    def _drop(self, sub: _Sub) -> None:
        with self._lock:
            subs = self._subs.get(sub.message_id)
            if subs is not None and sub in subs:
                subs.remove(sub)
                if not subs:
                    del self._subs[sub.message_id]

    def close(self) -> None:
        """Stop the thread and its listener; waiters still waiting time out."""
        with self._lock:
            self._closed = True
            thread, loop, poke = self._thread, self._loop, self._poke
        if loop is not None and poke is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(poke.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    # -- the hub's thread ------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException:
            log.exception("the results hub stopped")
            with self._lock:
                self._thread = None
                self._loop = None
                self._poke = None

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        poke = asyncio.Event()
        wakeups = await self._listen()
        with self._lock:
            self._loop, self._poke = loop, poke
        hint: asyncio.Future[bool] | None = None
        idle_since: float | None = None
        try:
            while True:
                poke.clear()
                with self._lock:
                    if self._closed:
                        return
                    ids = list(self._subs)
                    fresh = [sub for subs in self._subs.values() for sub in subs if sub.looked is not None]
                if ids:
                    idle_since = None
                    self._look(ids)
                    _first_looks(fresh)
                else:
                    idle_since = loop.time() if idle_since is None else idle_since
                    if loop.time() - idle_since >= LINGER:
                        with self._lock:
                            if not self._subs:
                                self._thread = self._loop = self._poke = None
                                return
                        continue
                if hint is None and wakeups is not None:
                    hint = asyncio.ensure_future(wakeups.wait(SAFETY))
                poked = asyncio.ensure_future(poke.wait())
                waits: set[asyncio.Future[Any]] = {poked} if hint is None else {poked, hint}
                await asyncio.wait(
                    waits, timeout=SAFETY if ids else LINGER, return_when=asyncio.FIRST_COMPLETED
                )
                poked.cancel()
                if hint is not None and hint.done():
                    if not hint.cancelled() and hint.exception() is not None:
                        log.warning("results: the store's hints failed: %s", hint.exception())
                    hint = None
        finally:
            if hint is not None:
                hint.cancel()
            if wakeups is not None:
                wakeups.close()

    async def _listen(self) -> Any:
        """The store's result hints, listening before the first look (so no commit falls in between)."""
        try:
            wakeups = self._store.result_wakeups()
            await wakeups.wait(0)
        except Exception as error:
            log.warning("results: no hints from the store (%s); waiters look every %.0f s", error, SAFETY)
            return None
        return wakeups

    def _look(self, ids: Sequence[int]) -> None:
        rows: list[ResultRow] = []
        try:
            for start in range(0, len(ids), CHUNK):
                self.looks += 1
                rows.extend(self._store.results(ids[start : start + CHUNK]))
        except Exception as error:
            log.warning("results: looking up %d message(s) failed (%s); trying again", len(ids), error)
            return
        for row in rows:
            f = settled(row)
            if f is None:
                continue
            with self._lock:
                subs = self._subs.pop(row.message_id, [])
            for sub in subs:
                try:
                    sub.deliver(f)
                except Exception:
                    log.exception("results: a waiter's callback failed")


def _first_looks(subs: Sequence[_Sub]) -> None:
    for sub in subs:
        looked, sub.looked = sub.looked, None
        if looked is not None:
            looked()


def _resolve(future: asyncio.Future[Any], f: Finished | None) -> None:
    if not future.done():
        future.set_result(f)
