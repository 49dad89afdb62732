"""The results API: ``GET /api/messages/{id}/result?wait=S`` (docs/results.md), a long poll.

It answers as soon as the message finished or ``wait`` seconds passed (at most ``MAX_WAIT``; a longer
``wait`` is cut to it), woken by the store's result hints: the waiting request holds no thread.
``state`` is ``ok`` (with ``value`` and ``repr``), ``dead`` or ``cancelled`` (with ``error``), or
``pending``; an id with no live message and no kept result is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._results import finished_json
from ._http import ApiError, JSONResponse, api, parse_int, query_value, route, seconds_param

if TYPE_CHECKING:
    from .._app import App

__all__ = ["MAX_WAIT", "result_routes"]

MAX_WAIT = 30.0
"""The longest one request waits by default (a client that wants longer asks again; ``create_app``'s
``max_wait`` sets another)."""


def wait_param(text: str | None, cap: float) -> float:
    """``?wait=``: seconds from 0 to 10 years (left out: 0), cut to ``cap``."""
    return 0.0 if text is None else min(seconds_param(text, "wait"), cap)


def result_routes(app: App, max_wait: float = MAX_WAIT) -> list[Route]:
    @api
    async def result(request: Request) -> Response:
        message_id = parse_int(request.path_params["id"], "message id", 1)
        wait = wait_param(query_value(request, "wait"), max_wait)
        found = await app.results_hub.await_(message_id, wait)
        shown = finished_json(message_id, found)
        if shown["state"] == "unknown":
            raise ApiError(
                404,
                f"message {message_id}: no such message and no kept result (never emitted, cancelled or "
                "discarded, its worker keeps no results, or its result expired)",
            )
        return JSONResponse(shown)

    return [route("/api/messages/{id}/result", result, "GET")]
