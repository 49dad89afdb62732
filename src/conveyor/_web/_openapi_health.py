"""The OpenAPI entries of the health probes (``_health.py``): ``/healthz`` and ``/readyz``, which need no
token."""

from __future__ import annotations

from typing import Any

from ._openapi_schemas import json_answer

__all__ = ["health_paths"]

_RUNNER = {
    "type": "object",
    "properties": {
        "slot": {"type": "integer"},
        "pid": {"type": ["integer", "null"]},
        "state": {"enum": ["ok", "starting", "stale", "restarting"]},
        "seconds": {"type": ["number", "null"], "description": "Since its last beat (or its start)."},
    },
    "required": ["slot", "pid", "state", "seconds"],
}
_LIVENESS = {
    "type": "object",
    "properties": {
        "status": {"enum": ["ok", "failing", "stopping"]},
        "role": {
            "enum": ["run", "web"],
            "description": "run: runners in this process; web: a web face alone.",
        },
        "supervisor": {
            "type": ["object", "null"],
            "properties": {"pid": {"type": "integer"}, "seconds": {"type": "number"}},
        },
        "runners": {"type": "array", "items": _RUNNER},
        "stale_after": {"type": "number"},
        "reason": {"type": "string"},
    },
    "required": ["status", "role", "supervisor", "runners"],
}
_READINESS = {
    "type": "object",
    "properties": {
        "status": {"enum": ["ready", "not ready"]},
        "schema": {
            "type": "object",
            "properties": {"version": {"type": ["integer", "null"]}, "expected": {"type": "integer"}},
            "required": ["version", "expected"],
        },
        "seconds": {"type": "number"},
        "reason": {"type": "string"},
    },
    "required": ["status", "schema", "seconds"],
}


def health_paths() -> dict[str, Any]:
    def probe(operation_id: str, summary: str, schema: dict[str, Any], ok: str, bad: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "security": [],
                "responses": {"200": json_answer(schema, ok), "503": json_answer(schema, bad)},
            }
        }

    return {
        "/healthz": probe(
            "healthz",
            "Liveness, without a token and without a store query: the supervisor's and every runner's "
            "loop turned recently.",
            _LIVENESS,
            "Alive (or stopping).",
            "A loop has not turned within stale_after seconds: reason says which.",
        ),
        "/readyz": probe(
            "readyz",
            "Readiness, without a token: the store answers and its schema is the one this Conveyor expects.",
            _READINESS,
            "Ready.",
            "The store cannot be reached, its schema is not current, or the runners are stopping.",
        ),
    }
