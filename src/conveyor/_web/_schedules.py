"""The schedules API: ``GET /api/schedules``, ``POST /api/schedules/{name}/pause|resume``.

A name no live runner publishes (and the served app does not define) is a 404; an invalid name a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._registry import NAME_RULE, check_worker_name
from ._http import ApiError, JSONResponse, api, route

if TYPE_CHECKING:
    from .._app import App

__all__ = ["schedule_routes"]


def _name(request: Request) -> str:
    name = request.path_params["name"]
    try:
        return check_worker_name(name)
    except ValueError:
        raise ApiError(400, f"invalid schedule name {name[:80]!r}: a schedule name is {NAME_RULE}") from None


def _change(change: Callable[[str], None], name: str) -> None:
    try:
        change(name)
    except LookupError:
        raise ApiError(404, f"no schedule {name!r}: no live runner publishes it") from None


def schedule_routes(app: App) -> list[Route]:
    @api
    async def schedules(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(app.schedules))

    @api
    async def pause(request: Request) -> Response:
        name = _name(request)
        await run_in_threadpool(_change, app.pause_schedule, name)
        return JSONResponse({"schedule": name, "paused": True})

    @api
    async def resume(request: Request) -> Response:
        name = _name(request)
        await run_in_threadpool(_change, app.resume_schedule, name)
        return JSONResponse({"schedule": name, "paused": False})

    return [
        route("/api/schedules", schedules, "GET"),
        route("/api/schedules/{name:conveyor_name}/pause", pause, "POST"),
        route("/api/schedules/{name:conveyor_name}/resume", resume, "POST"),
    ]
