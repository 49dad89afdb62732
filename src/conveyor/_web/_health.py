"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness), for orchestrators' probes.

Both answer without a token (``_guard``): they carry no queue data. ``/healthz`` reads what the
supervisor serving in this process last published (``_runtime._liveness``), with no store query; a
web face with no runners in its process (``conveyor web``, or ``conveyor.web`` mounted in an app) is
alive while it answers. ``/readyz`` asks the store for its schema version, within ``READY_TIMEOUT``
seconds, and is 503 while the runners of this process are stopping.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._runtime._liveness import current
from .._stores._probe import expected_version, schema_problem
from ._http import JSONResponse, route

if TYPE_CHECKING:
    from .._app import App

__all__ = ["HEALTH_PATHS", "READY_TIMEOUT", "health_routes"]

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
READY_TIMEOUT = 2.0
"""Seconds ``/readyz`` waits for the store before it answers 503."""
_NO_CACHE = {"Cache-Control": "no-store"}


def liveness_report() -> tuple[bool, dict[str, Any]]:
    found = current()
    if found is None:
        return True, {"status": "ok", "role": "web", "supervisor": None, "runners": []}
    return found.report()


def health_routes(app: App) -> list[Route]:
    async def healthz(request: Request) -> Response:
        alive, body = liveness_report()
        return JSONResponse(body, status_code=200 if alive else 503, headers=_NO_CACHE)

    async def readyz(request: Request) -> Response:
        expected = expected_version(app.url)
        body: dict[str, Any] = {"status": "ready", "schema": {"version": None, "expected": expected}}
        started = time.monotonic()
        reason = None
        try:
            version = await asyncio.wait_for(run_in_threadpool(_schema_version, app), READY_TIMEOUT)
        except TimeoutError:
            reason = f"the store did not answer within {READY_TIMEOUT:g} s"
        except Exception as error:
            reason = f"the store cannot be reached: {_one_line(error)}"
        else:
            body["schema"]["version"] = version
            reason = schema_problem(version, expected)
        body["seconds"] = round(time.monotonic() - started, 4)
        found = current()
        if reason is None and found is not None and found.snapshot.stopping:
            reason = "stopping: the runners of this process are shutting down"
        if reason is not None:
            body["status"] = "not ready"
            body["reason"] = reason
        return JSONResponse(body, status_code=200 if reason is None else 503, headers=_NO_CACHE)

    return [route("/healthz", healthz, "GET"), route("/readyz", readyz, "GET")]


def _schema_version(app: App) -> int:
    return int(app.store.schema_version())


def _one_line(error: BaseException) -> str:
    return (" ".join(str(error).split()) or type(error).__name__)[:300]
