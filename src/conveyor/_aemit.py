"""``await app.aemit(...)`` and ``await app.aemit_many(...)``: emitting from coroutines.

The event is checked and encoded on the caller's loop, exactly as ``emit`` does it (microseconds for an
ordinary event). A plain message (no key, no ``conn``) is written there too when the store can do it
without waiting (``Store.enqueue_nowait``: SQLite with its write lock free, no checkpoint); every other
write runs on the app's emit thread, so the loop never waits on the database.
One thread per app and process serves every loop: it takes all the writes that are waiting at once and
hands their results back to each loop in one call, so many concurrent ``aemit`` calls cost one loop wake-up
per batch, not one per message; the plain ones among them (no key, no ``conn``) share one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from queue import SimpleQueue
from typing import Any

from ._emitter import Emitter
from ._groups import emit_group
from ._stores import NewMessage, Store

__all__ = ["EmitThread", "aemit", "aemit_many"]

_Write = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
_Done = tuple["asyncio.Future[Any]", bool, Any]


class _Plain:
    """``enqueue`` of one message without a key or a caller's connection: such writes, waiting at the same
    time, go to their store together in one transaction (one commit instead of one each); if that
    transaction fails, each is written alone so that every caller gets its own outcome."""

    __slots__ = ("message", "store")

    def __init__(self, store: Store, message: NewMessage) -> None:
        self.store = store
        self.message = message

    def __call__(self) -> list[int]:
        return self.store.enqueue([self.message])


class EmitThread:
    """The thread an app's async emits write through (started on first use, ended by ``close``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: SimpleQueue[_Write | None] | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.flying: dict[asyncio.AbstractEventLoop, int] = {}
        """Plain ``aemit`` calls in progress, per loop (each loop's entry is touched by its thread only)."""

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the emit thread; its result or its exception, without blocking the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue = self._queue
        if queue is None or self._pid != os.getpid():
            queue = self._start()
        queue.put((loop, future, fn, args))
        return await future

    def _start(self) -> SimpleQueue[_Write | None]:
        with self._lock:
            if self._queue is None or self._pid != os.getpid():  # first use, or a forked child
                queue: SimpleQueue[_Write | None] = SimpleQueue()
                thread = threading.Thread(target=_serve, args=(queue,), name="conveyor-aemit", daemon=True)
                thread.start()
                self._queue, self._thread, self._pid = queue, thread, os.getpid()
            return self._queue

    def close(self) -> None:
        """End the thread once the writes already queued are done."""
        with self._lock:
            queue, thread = self._queue, self._thread
            self._queue = self._thread = None
        if queue is not None and thread is not None and self._pid == os.getpid():
            queue.put(None)
            if thread is not threading.current_thread():
                thread.join()


def _serve(queue: SimpleQueue[_Write | None]) -> None:
    while True:
        first = queue.get()
        batch = [first]
        while not queue.empty():  # everything waiting now: one hand-back per loop for all of it
            batch.append(queue.get())
        done: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
        stop = None in batch
        writes = [item for item in batch if item is not None]
        if len(writes) > 1:
            writes = _together(writes, done)
        for loop, future, fn, args in writes:
            try:
                entry: _Done = (future, True, fn(*args))
            except BaseException as error:  # handed to the awaiting coroutine, raised there
                entry = (future, False, error)
            done.setdefault(loop, []).append(entry)
        for loop, entries in done.items():
            with contextlib.suppress(RuntimeError):  # a loop closed while its write ran: none waits
                loop.call_soon_threadsafe(_settle, entries)
        if stop:
            return


def _together(writes: list[_Write], done: dict[asyncio.AbstractEventLoop, list[_Done]]) -> list[_Write]:
    """Write the plain enqueues of ``writes`` one transaction per store; return the writes left to do."""
    plain: dict[int, list[tuple[_Write, _Plain]]] = {}
    rest: list[_Write] = []
    for write in writes:
        fn = write[2]
        if isinstance(fn, _Plain):
            plain.setdefault(id(fn.store), []).append((write, fn))
        else:
            rest.append(write)
    for group in plain.values():
        if len(group) == 1:
            rest.append(group[0][0])
            continue
        try:
            ids = group[0][1].store.enqueue([p.message for _, p in group])
        except Exception:  # nothing was written: each one alone, so that each gets its own outcome
            rest.extend(w for w, _ in group)
            continue
        for ((loop, future, _, _), _), message_id in zip(group, ids, strict=True):
            done.setdefault(loop, []).append((future, True, [message_id]))
    return rest


def _settle(entries: list[_Done]) -> None:
    for future, ok, value in entries:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


async def aemit(  # noqa: PLR0917 - App.emit's signature
    emitter: Emitter,
    thread: EmitThread,
    event: Any,
    worker: str,
    delay: float | None,
    at: datetime | None,
    key: str | None,
    conn: Any,
    priority: int,
) -> int:
    message = emitter.prepare(event, worker, delay=delay, at=at, key=key, priority=priority)
    if conn is not None or message.key is not None:
        ids: list[int] = await thread.call(emitter.store.enqueue, [message], conn)
        return ids[0]
    loop = asyncio.get_running_loop()
    flying = thread.flying
    others = flying.get(loop, 0)
    flying[loop] = others + 1
    try:
        # Alone on this loop: write here if the store can without waiting, then let the loop's other
        # tasks run. With other aemits in flight, join them on the thread: one transaction for all.
        if not others and (message_id := emitter.store.enqueue_nowait(message)) is not None:
            await asyncio.sleep(0)
            return message_id
        ids = await thread.call(_Plain(emitter.store, message))
        return ids[0]
    finally:
        if left := flying[loop] - 1:
            flying[loop] = left
        else:
            del flying[loop]


async def aemit_many(
    emitter: Emitter, thread: EmitThread, items: Iterable[tuple[Any, ...]], then: tuple[Any, ...] | None
) -> list[int]:
    # Many events: their encoding is work in proportion to the batch, so it runs on the thread too.
    ids: list[int]
    if then is None:
        ids = await thread.call(emitter.emit_many, items)
    else:
        ids = await thread.call(emit_group, emitter, items, then)
    return ids
