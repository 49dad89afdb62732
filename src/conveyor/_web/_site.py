"""The ASGI app: JSON API under ``/api``, the dashboard at ``/``, ``/metrics`` and ``/openapi.json``.

Every store call is blocking and short, so handlers run them in Starlette's thread pool. Bad input of
any kind is answered with a 4xx and ``{"error": "..."}``; an unexpected failure with 500 and the same
shape (never an HTML traceback).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._errors import UnknownWorkerWarning
from .._message import STATES
from .._registry import check_worker_name
from ._guard import Guard
from ._metrics import Metrics
from ._openapi import openapi_document
from ._pages import Pages

if TYPE_CHECKING:
    from .._app import App

__all__ = ["ApiError", "JSONResponse", "create_app"]

_HERE = Path(__file__).parent
_emit_lock = threading.Lock()  # warnings.catch_warnings is process-global: one emit at a time here
MAX_LIMIT = 10_000
MAX_ID = 2**63 - 1


class ApiError(Exception):
    """Answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def _api(fn: Endpoint) -> Endpoint:
    """Turn bad input (ValueError/TypeError from the App API, ApiError) into a 4xx JSON answer."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as error:
            return _error(error.status, error.message)
        except (ValueError, TypeError) as error:
            return _error(400, str(error) or type(error).__name__)

    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


# -- input ---------------------------------------------------------------------------------------
def _name(request: Request, param: str = "name") -> str:
    return check_worker_name(request.path_params[param])


def _int(text: str, what: str, minimum: int = 0, maximum: int = MAX_ID) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{what} must be an integer, not {text[:80]!r}") from None
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{what} must be between {minimum} and {maximum}, not {value}")
    return value


def _query_worker(request: Request) -> str | None:
    worker = request.query_params.get("worker") or None
    return None if worker is None else check_worker_name(worker)


async def _read(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request, *, empty: Any = ..., limit: int = 65_536) -> Any:
    body = await _read(request, limit)
    if not body.strip():
        if empty is not ...:
            return empty
        raise ApiError(400, "the request body is empty; send JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"the request body is not valid JSON: {error}") from None


async def _object_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    data = await _json_body(request, empty={})
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {type(data).__name__}")
    extra = sorted(set(data) - allowed)
    if extra:
        raise ApiError(400, f"unexpected field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    return data


def _dead_target(data: dict[str, Any]) -> dict[str, Any]:
    if ("id" in data) == ("worker" in data):
        raise ApiError(400, 'send {"id": <message id>} or {"worker": "<name>"}, exactly one of them')
    if "id" in data:
        value = data["id"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, f"id must be an integer, not {type(value).__name__}")
        if not 0 <= value <= MAX_ID:
            raise ApiError(400, f"id must be between 0 and {MAX_ID}, not {value}")
        return {"id": value}
    return {"worker": check_worker_name(data["worker"])}


class Site:
    """What the routes share: the App, the metrics sampler, the page renderer, shutdown."""

    def __init__(self, app: App, poll: float) -> None:
        self.app = app
        self.poll = poll
        self.metrics = Metrics(app, interval=poll)
        self.pages = Pages(app)
        self.stopping = threading.Event()
        self.openapi = openapi_document()

    def emit(self, event: Any, worker: str, delay: float | None, key: str | None) -> int:
        with _emit_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownWorkerWarning)
            return self.app.emit(event, worker, delay=delay, key=key)

    def close(self) -> None:
        self.stopping.set()
        self.metrics.stop()


def create_app(
    app: App,
    *,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    poll: float = 0.5,
) -> Starlette:
    """The web face of ``app`` as an ASGI app, to serve alone or mount (``Mount("/conveyor", ...)``).

    ``token``: the bearer token required on every request (default ``$CONVEYOR_TOKEN``; empty = none).
    Without a token only loopback host names (and ``allowed_hosts``) are answered, which stops DNS
    rebinding. State-changing requests from another site are refused (Origin / Sec-Fetch-Site check).
    ``poll``: seconds between the dashboard's live updates and the metrics samples.
    """
    secret = os.environ.get("CONVEYOR_TOKEN", "") if token is None else token
    site = Site(app, poll)

    # -- workers ---------------------------------------------------------------------------------
    @_api
    async def workers(request: Request) -> Response:
        status = await run_in_threadpool(app.status)
        return JSONResponse(list(status.values()))

    @_api
    async def pause(request: Request) -> Response:
        name = _name(request)
        await run_in_threadpool(app.pause, name)
        return JSONResponse({"worker": name, "paused": True})

    @_api
    async def resume(request: Request) -> Response:
        name = _name(request)
        await run_in_threadpool(app.resume, name)
        return JSONResponse({"worker": name, "paused": False})

    @_api
    async def block(request: Request) -> Response:
        name = _name(request)
        data = await _object_body(request, {"reason"})
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, 'send {"reason": "<why>"}: a block needs a non-empty reason')
        await run_in_threadpool(app.block, name, reason)
        return JSONResponse({"worker": name, "blocked": reason})

    @_api
    async def unblock(request: Request) -> Response:
        name = _name(request)
        await run_in_threadpool(app.unblock, name)
        return JSONResponse({"worker": name, "blocked": None})

    @_api
    async def purge(request: Request) -> Response:
        name = _name(request)
        count = await run_in_threadpool(app.purge, name)
        site.metrics.removed(name, count)
        return JSONResponse({"worker": name, "purged": count})

    @_api
    async def traces(request: Request) -> Response:
        name = _name(request)
        return JSONResponse(await run_in_threadpool(app.traces, name))

    @_api
    async def replay(request: Request) -> Response:
        name = _name(request)
        message_id = _int(request.path_params["id"], "message id")
        found = [t for t in await run_in_threadpool(app.traces, name) if t.message_id == message_id]
        if not found:
            raise ApiError(404, f"worker {name!r} keeps no trace of message {message_id}")
        new_id = await run_in_threadpool(site.emit, found[0].event, name, None, None)
        return JSONResponse({"id": new_id}, status_code=202)

    # -- emit and messages -----------------------------------------------------------------------
    @_api
    async def emit(request: Request) -> Response:
        worker = _name(request, "worker")
        params = request.query_params
        delay: float | None = None
        if params.get("delay"):
            try:
                delay = float(params["delay"])
            except ValueError:
                raise ApiError(
                    400, f"delay must be a number of seconds, not {params['delay'][:80]!r}"
                ) from None
            if not math.isfinite(delay) or delay < 0:
                raise ApiError(400, f"delay must be a finite number of seconds >= 0, not {params['delay']!r}")
        key = params.get("key") or None
        # The event's own limit applies to its encoded JSON; the raw body may carry whitespace too.
        event = await _json_body(request, limit=2 * app.max_event_bytes + 65_536)
        new_id = await run_in_threadpool(site.emit, event, worker, delay, key)
        return JSONResponse({"id": new_id}, status_code=202)

    @_api
    async def messages(request: Request) -> Response:
        worker = _query_worker(request)
        state = request.query_params.get("state") or None
        if state is not None and state not in STATES:
            raise ApiError(400, f"state must be one of {', '.join(STATES)}, not {state[:80]!r}")
        limit = _int(request.query_params.get("limit") or "100", "limit", 1, MAX_LIMIT)
        return JSONResponse(await run_in_threadpool(app.messages, worker, state, limit))

    @_api
    async def cancel(request: Request) -> Response:
        message_id = _int(request.path_params["id"], "message id")
        if not await run_in_threadpool(app.cancel, message_id):
            raise ApiError(
                404, f"message {message_id} is not queued or scheduled (running, dead, done or unknown)"
            )
        site.metrics.removed(None, 1)
        return JSONResponse({"id": message_id, "cancelled": True})

    # -- dead letters and unknown workers --------------------------------------------------------
    @_api
    async def dead(request: Request) -> Response:
        worker = _query_worker(request)
        return JSONResponse(await run_in_threadpool(app.dead, worker))

    @_api
    async def retry_dead(request: Request) -> Response:
        target = _dead_target(await _object_body(request, {"id", "worker"}))
        count = await run_in_threadpool(lambda: app.retry_dead(**target))
        return JSONResponse({"retried": count})

    @_api
    async def discard_dead(request: Request) -> Response:
        target = _dead_target(await _object_body(request, {"id", "worker"}))
        count = await run_in_threadpool(lambda: app.discard_dead(**target))
        site.metrics.removed(target.get("worker"), count)
        return JSONResponse({"discarded": count})

    @_api
    async def unknown(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(app.unknown))

    # -- live, metrics, docs, pages --------------------------------------------------------------
    @_api
    async def stream(request: Request) -> Response:
        view = site.pages.view(request.query_params)

        async def events() -> AsyncIterator[bytes]:
            sent: dict[str, str] = {}
            beat = 0.0
            yield b"retry: 2000\n\n"
            while not site.stopping.is_set():
                sections = await run_in_threadpool(site.pages.sections, view)
                for section_id, html in sections.items():
                    if sent.get(section_id) != html:
                        sent[section_id] = html
                        data = orjson.dumps({"id": section_id, "html": html}).decode()
                        yield f"event: section\ndata: {data}\n\n".encode()
                beat += site.poll
                if beat >= 15:
                    beat = 0.0
                    yield b": keep-alive\n\n"
                await asyncio.sleep(site.poll)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    async def metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(site.metrics.render)
        return Response(body, media_type=content_type)

    async def openapi(request: Request) -> Response:
        return JSONResponse(site.openapi)

    @_api
    async def dashboard(request: Request) -> Response:
        view = site.pages.view(request.query_params)
        html = await run_in_threadpool(site.pages.index, view, request.scope.get("root_path", ""))
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", dashboard, methods=["GET"]),
        Route("/api/workers", workers, methods=["GET"]),
        Route("/api/workers/{name:path}/pause", pause, methods=["POST"]),
        Route("/api/workers/{name:path}/resume", resume, methods=["POST"]),
        Route("/api/workers/{name:path}/block", block, methods=["POST"]),
        Route("/api/workers/{name:path}/unblock", unblock, methods=["POST"]),
        Route("/api/workers/{name:path}/purge", purge, methods=["POST"]),
        Route("/api/workers/{name:path}/traces/{id}/replay", replay, methods=["POST"]),
        Route("/api/workers/{name:path}/traces", traces, methods=["GET"]),
        Route("/api/emit/{worker:path}", emit, methods=["POST"]),
        Route("/api/messages", messages, methods=["GET"]),
        Route("/api/messages/{id}", cancel, methods=["DELETE"]),
        Route("/api/dead", dead, methods=["GET"]),
        Route("/api/dead/retry", retry_dead, methods=["POST"]),
        Route("/api/dead/discard", discard_dead, methods=["POST"]),
        Route("/api/unknown", unknown, methods=["GET"]),
        Route("/api/stream", stream, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {404: f"no such path: {request.url.path}", 405: f"{request.method} is not allowed here"}
        return _error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error(500, f"internal error: {type(exc).__name__}")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        site.metrics.ensure_started()  # served alone; mounted apps start it on their first request
        try:
            yield
        finally:
            site.close()

    web = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=secret, allowed_hosts=allowed_hosts or [], site=site)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    web.state.conveyor = site
    return web
