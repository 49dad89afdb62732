"""The OpenAPI entries of the runners and stats API (``_stats.py``): its two paths and schemas."""

from __future__ import annotations

from typing import Any

from .._stats import MAX_MINUTES
from ._openapi_schemas import ERROR, NAME_PATTERN, json_answer, query_params, ref

__all__ = ["STATS_PATHS", "STATS_SCHEMAS"]

_TIME = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_SECONDS = {"type": ["number", "null"], "minimum": 0, "description": "Seconds; null without runs."}

STATS_SCHEMAS: dict[str, Any] = {
    "RunnerStatus": {
        "type": "object",
        "description": (
            "A runner as its last heartbeat recorded it (every lease/3 seconds, 10 s by default). state "
            "lost: unseen for 30 s (it died or stalled), listed until no message runs under it any more."
        ),
        "properties": {
            "id": {"type": "string"},
            "host": {"type": ["string", "null"]},
            "pid": {"type": ["integer", "null"]},
            "started_at": _TIME,
            "last_seen": _TIME,
            "slots": {"type": ["integer", "null"], "minimum": 0},
            "running": {**_COUNT, "description": "Messages it runs now (busy slots)."},
            "running_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            "workers": {"type": "array", "items": {"type": "string"}},
            "state": {"enum": ["live", "lost"]},
        },
        "required": [
            "id",
            "host",
            "pid",
            "started_at",
            "last_seen",
            "slots",
            "running",
            "running_ids",
            "workers",
            "state",
        ],
    },
    "StatsBucket": {
        "type": "object",
        "description": (
            "One worker's work over one minute, across every runner and host; worker null: every "
            "worker together. Wait: from when a message fell due to its start; run: its handler's time."
        ),
        "properties": {
            "worker": {"anyOf": [{"type": "string", "pattern": NAME_PATTERN}, {"type": "null"}]},
            "minute": _TIME,
            "processed": _COUNT,
            "failed": _COUNT,
            "retried": _COUNT,
            "dead": _COUNT,
            "wait_p50": _SECONDS,
            "wait_p95": _SECONDS,
            "run_p50": _SECONDS,
            "run_p95": _SECONDS,
        },
        "required": [
            "worker",
            "minute",
            "processed",
            "failed",
            "retried",
            "dead",
            "wait_p50",
            "wait_p95",
            "run_p50",
            "run_p95",
        ],
    },
}

STATS_PATHS: dict[str, Any] = {
    "/api/runners": {
        "get": {
            "operationId": "listRunners",
            "summary": "Every runner the store knows of, live or lost, by id.",
            "responses": {
                "200": json_answer({"type": "array", "items": ref("RunnerStatus")}, "Runners."),
            },
        }
    },
    "/api/stats": {
        "get": {
            "operationId": "listStats",
            "summary": (
                "Per-minute stats of the last `minutes` minutes, minutes with work only, oldest first; "
                "without a worker, each minute's total (worker null) comes first."
            ),
            "parameters": [
                *query_params("worker"),
                {
                    "name": "minutes",
                    "in": "query",
                    "description": "How many minutes back, the current one included (plain digits).",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES, "default": 60},
                },
            ],
            "responses": {
                "200": json_answer({"type": "array", "items": ref("StatsBucket")}, "Stats."),
                "400": ERROR,
            },
        }
    },
}
