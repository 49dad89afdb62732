"""The ASGI app: JSON API under ``/api``, the dashboard at ``/``, ``/metrics`` and ``/openapi.json``.

Every store call is blocking and short, so handlers run them in Starlette's thread pool. Bad input of
any kind is answered with a 4xx and ``{"error": "..."}``; an unexpected failure with 500 and the same
shape (never an HTML traceback).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .._errors import UnknownWorkerWarning
from .._message import STATES
from ._envelope import Envelope
from ._guard import Guard
from ._health import health_routes
from ._http import (
    MAX_LIMIT,
    ApiError,
    JSONResponse,
    api,
    block_reason,
    dead_target,
    delay_param,
    event_body,
    json_error,
    object_body,
    parse_int,
    path_name,
    priority_param,
    query_value,
    query_worker,
    route,
)
from ._live import Live
from ._metrics import Metrics
from ._openapi import openapi_document
from ._pages import Pages
from ._results import MAX_WAIT, result_routes
from ._schedules import schedule_routes
from ._server import check_token

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Site", "create_app"]

_HERE = Path(__file__).parent
_emit_lock = threading.Lock()  # warnings.catch_warnings is process-global: one emit at a time here


class Site:
    """What the routes share: the App, the metrics sampler, the page renderer, live streams, shutdown."""

    def __init__(self, app: App, poll: float, max_streams: int) -> None:
        self.app = app
        self.poll = poll
        self.metrics = Metrics(app, interval=poll)
        self.pages = Pages(app)
        self.stopping = threading.Event()
        self.live = Live(self.pages, poll, max_streams, self.stopping)
        self.openapi = openapi_document()

    def emit(self, event: Any, worker: str, delay: float | None, key: str | None, priority: int = 0) -> int:
        with _emit_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownWorkerWarning)
            return self.app.emit(event, worker, delay=delay, key=key, priority=priority)

    def close(self) -> None:
        self.stopping.set()
        self.metrics.stop()


def create_app(
    app: App,
    *,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    poll: float = 0.5,
    max_streams: int = 100,
    max_wait: float = MAX_WAIT,
) -> Starlette:
    """The web face of ``app`` as an ASGI app, to serve alone or mount (``Mount("/conveyor", ...)``).

    ``token``: the bearer token required on every request (default ``$CONVEYOR_TOKEN``; empty = none;
    printable ASCII, else ValueError). Without a token only loopback clients are answered, and only
    under loopback host names (and ``allowed_hosts``), which stops DNS rebinding. Writes need the
    ``X-Conveyor-Request`` header and are refused from other sites (Origin / Sec-Fetch-Site).
    ``poll``: seconds between the dashboard's live updates and the metrics samples. ``max_streams``:
    how many live dashboard streams may be open at once (503 past it). ``max_wait``: the longest a
    result long poll (``GET /api/messages/{id}/result?wait=``) waits before it answers ``pending``.
    """
    secret = check_token(os.environ.get("CONVEYOR_TOKEN", "") if token is None else token)
    site = Site(app, poll, max_streams)

    # -- workers ---------------------------------------------------------------------------------
    @api
    async def workers(request: Request) -> Response:
        status = await run_in_threadpool(app.status)
        return JSONResponse(list(status.values()))

    @api
    async def pause(request: Request) -> Response:
        name = path_name(request)
        await run_in_threadpool(app.pause, name)
        return JSONResponse({"worker": name, "paused": True})

    @api
    async def resume(request: Request) -> Response:
        name = path_name(request)
        await run_in_threadpool(app.resume, name)
        return JSONResponse({"worker": name, "paused": False})

    @api
    async def block(request: Request) -> Response:
        name = path_name(request)
        reason = block_reason(await object_body(request, {"reason"}))
        await run_in_threadpool(app.block, name, reason)
        return JSONResponse({"worker": name, "blocked": reason})

    @api
    async def unblock(request: Request) -> Response:
        name = path_name(request)
        await run_in_threadpool(app.unblock, name)
        return JSONResponse({"worker": name, "blocked": None})

    @api
    async def purge(request: Request) -> Response:
        name = path_name(request)
        count = await run_in_threadpool(app.purge, name)
        site.metrics.removed(name, count)
        return JSONResponse({"worker": name, "purged": count})

    @api
    async def traces(request: Request) -> Response:
        name = path_name(request)
        return JSONResponse(await run_in_threadpool(app.traces, name))

    @api
    async def replay(request: Request) -> Response:
        name = path_name(request)
        message_id = parse_int(request.path_params["id"], "message id")
        found = [t for t in await run_in_threadpool(app.traces, name) if t.message_id == message_id]
        if not found:
            raise ApiError(404, f"worker {name!r} keeps no trace of message {message_id}")
        new_id = await run_in_threadpool(site.emit, found[0].event, name, None, None)
        return JSONResponse({"id": new_id}, status_code=202)

    # -- emit and messages -----------------------------------------------------------------------
    @api
    async def emit(request: Request) -> Response:
        worker = path_name(request, "worker")
        delay = delay_param(query_value(request, "delay"))
        key = query_value(request, "key")
        priority = priority_param(query_value(request, "priority"))
        # The event's own limit applies to its encoded JSON; the raw body may carry whitespace too.
        event = await event_body(request, limit=2 * app.max_event_bytes + 65_536)
        new_id = await run_in_threadpool(site.emit, event, worker, delay, key, priority)
        return JSONResponse({"id": new_id}, status_code=202)

    @api
    async def messages(request: Request) -> Response:
        worker = query_worker(request)
        state = request.query_params.get("state") or None
        if state is not None and state not in STATES:
            raise ApiError(400, f"state must be one of {', '.join(STATES)}, not {state[:80]!r}")
        limit = parse_int(query_value(request, "limit") or "100", "limit", 1, MAX_LIMIT)
        return JSONResponse(await run_in_threadpool(app.messages, worker, state, limit))

    @api
    async def message(request: Request) -> Response:
        message_id = parse_int(request.path_params["id"], "message id")
        found = await run_in_threadpool(app.message, message_id)
        if found is None:
            raise ApiError(
                404, f"message {message_id} is not stored (done, cancelled, discarded or never emitted)"
            )
        return JSONResponse(found)

    @api
    async def cancel(request: Request) -> Response:
        message_id = parse_int(request.path_params["id"], "message id")
        if not await run_in_threadpool(app.cancel, message_id):
            raise ApiError(
                404, f"message {message_id} is not queued or scheduled (running, dead, done or unknown)"
            )
        site.metrics.removed(None, 1)
        return JSONResponse({"id": message_id, "cancelled": True})

    async def one_message(request: Request) -> Response:
        return await (cancel if request.method == "DELETE" else message)(request)

    # -- dead letters and unknown workers --------------------------------------------------------
    @api
    async def dead(request: Request) -> Response:
        worker = query_worker(request)
        return JSONResponse(await run_in_threadpool(app.dead, worker))

    @api
    async def retry_dead(request: Request) -> Response:
        target = dead_target(await object_body(request, {"id", "worker"}))
        count = await run_in_threadpool(lambda: app.retry_dead(**target))
        return JSONResponse({"retried": count})

    @api
    async def discard_dead(request: Request) -> Response:
        target = dead_target(await object_body(request, {"id", "worker"}))
        count = await run_in_threadpool(lambda: app.discard_dead(**target))
        site.metrics.removed(target.get("worker"), count)
        return JSONResponse({"discarded": count})

    @api
    async def unknown(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(app.unknown))

    # -- live, metrics, docs, pages --------------------------------------------------------------
    @api
    async def stream(request: Request) -> Response:
        events = site.live.open(site.pages.view(request.query_params))
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(site.metrics.render)
        return Response(body, media_type=content_type)

    async def openapi(request: Request) -> Response:
        root = str(request.scope.get("root_path") or "").rstrip("/")
        return JSONResponse(site.openapi | {"servers": [{"url": root or "/"}]})

    @api
    async def dashboard(request: Request) -> Response:
        view = site.pages.view(request.query_params)
        html = await run_in_threadpool(site.pages.index, view, request.scope.get("root_path", ""))
        return HTMLResponse(html)

    @api
    async def message_page(request: Request) -> Response:
        message_id = parse_int(request.path_params["id"], "message id")
        worker = query_worker(request)
        base = str(request.scope.get("root_path", ""))
        status, html = await run_in_threadpool(site.pages.message, message_id, worker, base)
        return HTMLResponse(html, status_code=status)

    routes = [
        route("/", dashboard, "GET"),
        route("/messages/{id}", message_page, "GET"),
        route("/api/workers", workers, "GET"),
        route("/api/workers/{name:conveyor_name}/pause", pause, "POST"),
        route("/api/workers/{name:conveyor_name}/resume", resume, "POST"),
        route("/api/workers/{name:conveyor_name}/block", block, "POST"),
        route("/api/workers/{name:conveyor_name}/unblock", unblock, "POST"),
        route("/api/workers/{name:conveyor_name}/purge", purge, "POST"),
        route("/api/workers/{name:conveyor_name}/traces/{id}/replay", replay, "POST"),
        route("/api/workers/{name:conveyor_name}/traces", traces, "GET"),
        route("/api/emit/{worker:conveyor_name}", emit, "POST"),
        route("/api/messages", messages, "GET"),
        route("/api/messages/{id}", one_message, "GET", "DELETE"),
        *result_routes(app, max_wait),
        route("/api/dead", dead, "GET"),
        route("/api/dead/retry", retry_dead, "POST"),
        route("/api/dead/discard", discard_dead, "POST"),
        route("/api/unknown", unknown, "GET"),
        *schedule_routes(app),
        route("/api/stream", stream, "GET"),
        route("/metrics", metrics, "GET"),
        route("/openapi.json", openapi, "GET"),
        *health_routes(app),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {404: f"no such path: {request.url.path}", 405: f"{request.method} is not allowed here"}
        return json_error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return json_error(500, f"internal error: {type(exc).__name__}")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        site.metrics.ensure_started()  # served alone; mounted apps start it on their first request
        try:
            yield
        finally:
            site.close()

    web = Starlette(
        routes=routes,
        middleware=[
            Middleware(Envelope),
            Middleware(Guard, token=secret, allowed_hosts=allowed_hosts or [], site=site),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    web.state.conveyor = site
    return web
