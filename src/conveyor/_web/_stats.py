"""The runners and stats API: ``GET /api/runners``, ``GET /api/stats?worker=&minutes=``
(docs/http.md#runners-and-stats)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._stats import MAX_MINUTES
from ._http import JSONResponse, api, parse_int, query_value, query_worker, route

if TYPE_CHECKING:
    from .._app import App

__all__ = ["stats_routes"]


def stats_routes(app: App) -> list[Route]:
    @api
    async def runners(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(app.runners))

    @api
    async def stats(request: Request) -> Response:
        worker = query_worker(request)
        text = query_value(request, "minutes")
        minutes = 60 if text is None else parse_int(text, "minutes", 1, MAX_MINUTES)
        return JSONResponse(await run_in_threadpool(app.stats, worker, minutes))

    return [route("/api/runners", runners, "GET"), route("/api/stats", stats, "GET")]
