"""The dashboard's live updates: one poller per web app, shared by every open stream.

Each tick the poller renders the sections of every view that some stream watches, once per view
(the store queries shared by all views run once: see ``Pages.render``), and hands the result to the
streams of that view. A stream sends only the sections that changed since it last sent them. So N
open tabs cost one set of store queries per tick, not N. Streams past ``max_streams`` are refused
with 503. The poller runs while at least one stream is open.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson
from starlette.concurrency import run_in_threadpool

from ._http import ApiError

if TYPE_CHECKING:
    from ._pages import Pages, View

__all__ = ["Live"]

log = logging.getLogger("conveyor.web")

KEEP_ALIVE = 15.0


class _Stream:
    __slots__ = ("changed", "latest", "view")

    def __init__(self, view: View) -> None:
        self.view = view
        self.latest: dict[str, str] = {}
        self.changed = asyncio.Event()


class Live:
    def __init__(self, pages: Pages, poll: float, max_streams: int, stopping: threading.Event) -> None:
        if isinstance(max_streams, bool) or not isinstance(max_streams, int) or max_streams < 1:
            raise ValueError(f"max_streams must be an int >= 1, not {max_streams!r}")
        self.pages = pages
        self.poll = poll
        self.max_streams = max_streams
        self.stopping = stopping
        self.ticks = 0
        self._streams: set[_Stream] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def streams(self) -> int:
        return len(self._streams)

    def open(self, view: View) -> AsyncIterator[bytes]:
        """The event stream of ``view`` (ApiError 503 past ``max_streams``)."""
        if len(self._streams) >= self.max_streams:
            raise ApiError(
                503,
                f"too many live dashboard streams: {self.max_streams} are open (max_streams); "
                "close a tab or raise the limit",
                {"Retry-After": "5"},
            )
        stream = _Stream(view)
        self._streams.add(stream)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll(), name="conveyor-live")
        return self._events(stream)

    async def _events(self, stream: _Stream) -> AsyncIterator[bytes]:
        sent: dict[str, str] = {}
        try:
            yield b"retry: 2000\n\n"
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(stream.changed.wait(), KEEP_ALIVE)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                stream.changed.clear()
                for section_id, html in stream.latest.items():
                    if sent.get(section_id) != html:
                        sent[section_id] = html
                        data = orjson.dumps({"id": section_id, "html": html}).decode()
                        yield f"event: section\ndata: {data}\n\n".encode()
        finally:
            self._streams.discard(stream)

    async def _poll(self) -> None:
        try:
            await self._ticks()
        finally:
            for stream in list(self._streams):
                stream.changed.set()  # wakes them to see the shutdown

    async def _ticks(self) -> None:
        while self._streams and not self.stopping.is_set():
            views = {stream.view for stream in self._streams}
            try:
                rendered = await run_in_threadpool(self.pages.render, views)
            except Exception:  # a bug in rendering itself: logged; the streams keep what they have
                log.exception("the live dashboard could not be rendered")
                rendered = {}
            self.ticks += 1
            for stream in list(self._streams):
                stream.latest = rendered.get(stream.view, stream.latest)
                stream.changed.set()
            await asyncio.sleep(self.poll)
