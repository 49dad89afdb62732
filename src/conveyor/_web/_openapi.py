"""The OpenAPI 3.1 document served at ``/openapi.json``: the operations, their answers and the links
between them (hand-written; tests check it against the routes and run schemathesis against the app).

Links lead from an operation that answers ids or names to the operations that take them (emit →
message, workers → traces → replay, dead → retry/discard, schedules → pause/resume), so stateful
tools walk real flows. The schemas and parameters live in ``_openapi_schemas``.
"""

from __future__ import annotations

from typing import Any

from ._openapi_health import health_paths
from ._openapi_schemas import (
    COMPONENTS,
    ERROR,
    ID_PARAM,
    WRITE_HEADER,
    json_answer,
    name_param,
    query_params,
    ref,
)
from ._openapi_stats import STATS_PATHS, STATS_SCHEMAS

__all__ = ["openapi_document"]

_HTML = {"text/html": {"schema": {"type": "string"}}}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
}


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


def _body_link(operation_id: str, description: str, body: dict[str, str]) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "requestBody": body}


def _first(field: str) -> str:
    return f"$response.body#/0/{field}"


def _worker_links(name: str) -> dict[str, Any]:
    """From an answer naming a worker (``name``: the runtime expression) to what takes a worker name."""
    return {
        "traces": _link("workerTraces", "The worker's kept traces.", name=name),
        "messages": _link("listMessages", "The worker's messages.", worker=name),
        "dead": _link("listDead", "The worker's dead letters.", worker=name),
        "emit": _link("emit", "Emit to the worker.", worker=name),
        "pause": _link("pauseWorker", "Pause the worker.", name=name),
        "resume": _link("resumeWorker", "Resume the worker.", name=name),
        "block": _link("blockWorker", "Block the worker.", name=name),
        "unblock": _link("unblockWorker", "Unblock the worker.", name=name),
        "purge": _link("purgeWorker", "Remove the worker's queued messages.", name=name),
    }


def _message_links(message_id: str) -> dict[str, Any]:
    """From an answer holding a message id to what takes one."""
    return {
        "message": _link("getMessage", "The message.", id=message_id),
        "result": _link("messageResult", "The message's kept result.", id=message_id),
        "cancel": _link("cancelMessage", "Cancel the message.", id=message_id),
        "page": _link("messagePage", "The message's page.", id=message_id),
    }


def _rule(operation_id: str, summary: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
    done = {
        "type": "object",
        "properties": {"worker": {"type": "string"}, key: value},
        "required": ["worker", key],
    }
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [name_param()],
            "responses": {"200": json_answer(done, "Done."), "400": ERROR},
        }
    }


def _schedule_change(operation_id: str, summary: str, paused: bool) -> dict[str, Any]:
    done = {
        "type": "object",
        "properties": {"schedule": {"type": "string"}, "paused": {"const": paused}},
        "required": ["schedule", "paused"],
    }
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [name_param(description="A schedule name (the worker-name rule).")],
            "responses": {"200": json_answer(done, "Done."), "400": ERROR, "404": ERROR},
        }
    }


def _count(key: str, description: str, worker: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {key: {"type": "integer", "minimum": 0}}
    if worker:
        properties["worker"] = {"type": "string"}
    return json_answer(
        {"type": "object", "properties": properties, "required": sorted(properties)}, description
    )


def _dead_change(operation_id: str, summary: str, key: str, description: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("DeadTarget")}}},
            "responses": {"200": _count(key, description), "400": ERROR},
        }
    }


def _paths() -> dict[str, Any]:
    emitted = json_answer(ref("Id"), "Enqueued (or, with a live key, the existing message).")
    return {
        "/api/emit/{worker}": {
            "post": {
                "operationId": "emit",
                "summary": "Emit the request body as an event to a worker (unknown workers: held).",
                "parameters": [name_param("worker"), *query_params("delay", "key", "priority")],
                "requestBody": {
                    "required": True,
                    "description": "The event.",
                    "content": {"application/json": {"schema": ref("JsonValue")}},
                },
                "responses": {
                    "202": emitted | {"links": _message_links("$response.body#/id")},
                    "400": ERROR,
                    "413": ERROR,
                },
            }
        },
        "/api/workers": {
            "get": {
                "operationId": "listWorkers",
                "summary": "Every worker defined or emitted to, with counts and rules.",
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("WorkerStatus")}, "Workers.")
                    | {"links": _worker_links(_first("name"))}
                },
            }
        },
        "/api/workers/{name}/pause": _rule(
            "pauseWorker", "Stop claiming this worker's messages.", "paused", {"const": True}
        ),
        "/api/workers/{name}/resume": _rule(
            "resumeWorker", "Claim this worker's messages again.", "paused", {"const": False}
        ),
        "/api/workers/{name}/unblock": _rule("unblockWorker", "Lift a block.", "blocked", {"type": "null"}),
        "/api/workers/{name}/block": {
            "post": {
                "operationId": "blockWorker",
                "summary": "Block a worker (held until unblocked).",
                "parameters": [name_param()],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("BlockReason")}},
                },
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "properties": {"worker": {"type": "string"}, "blocked": {"type": "string"}},
                            "required": ["worker", "blocked"],
                        },
                        "Blocked.",
                    ),
                    "400": ERROR,
                },
            }
        },
        "/api/workers/{name}/purge": {
            "post": {
                "operationId": "purgeWorker",
                "summary": "Remove every queued and scheduled message of a worker (or an unknown one).",
                "parameters": [name_param()],
                "responses": {"200": _count("purged", "Removed.", worker=True), "400": ERROR},
            }
        },
        "/api/workers/{name}/traces": {
            "get": {
                "operationId": "workerTraces",
                "summary": "The kept traces of a worker, newest first.",
                "parameters": [name_param()],
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("Trace")}, "Traces.")
                    | {
                        "links": {
                            "replay": _link(
                                "replayTrace",
                                "Emit the newest trace's event again.",
                                name="$request.path.name",
                                id=_first("message_id"),
                            ),
                            "page": _link(
                                "messagePage", "The traced message's page.", id=_first("message_id")
                            ),
                        }
                    },
                    "400": ERROR,
                },
            }
        },
        "/api/workers/{name}/traces/{id}/replay": {
            "post": {
                "operationId": "replayTrace",
                "summary": "Emit the event of a kept trace again.",
                "parameters": [name_param(), ID_PARAM],
                "responses": {
                    "202": json_answer(ref("Id"), "Enqueued.")
                    | {"links": _message_links("$response.body#/id")},
                    "400": ERROR,
                    "404": ERROR,
                },
            }
        },
        "/api/messages": {
            "get": {
                "operationId": "listMessages",
                "summary": "Messages, oldest first.",
                "parameters": query_params("worker", "state", "limit"),
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("Message")}, "Messages.")
                    | {
                        "links": _message_links(_first("id"))
                        | {
                            "traces": _link(
                                "workerTraces", "The first one's worker's traces.", name=_first("worker")
                            )
                        }
                    },
                    "400": ERROR,
                },
            }
        },
        "/api/messages/{id}": {
            "get": {
                "operationId": "getMessage",
                "summary": "One message by id (queued, scheduled, running or dead).",
                "parameters": [ID_PARAM],
                "responses": {
                    "200": json_answer(ref("Message"), "The message.")
                    | {
                        "links": {
                            "cancel": _link("cancelMessage", "Cancel it.", id="$response.body#/id"),
                            "traces": _link(
                                "workerTraces", "Its worker's kept traces.", name="$response.body#/worker"
                            ),
                        }
                    },
                    "400": ERROR,
                    "404": ERROR,
                },
            },
            "delete": {
                "operationId": "cancelMessage",
                "summary": "Cancel a queued or scheduled message.",
                "parameters": [ID_PARAM],
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "properties": {"id": {"type": "integer"}, "cancelled": {"const": True}},
                            "required": ["id", "cancelled"],
                        },
                        "Cancelled.",
                    ),
                    "400": ERROR,
                    "404": ERROR,
                },
            },
        },
        "/api/messages/{id}/result": {
            "get": {
                "operationId": "messageResult",
                "summary": (
                    "A message's kept result (docs/results.md), waiting up to `wait` seconds for it to "
                    "finish: a long poll, answered at once when it finishes (capped at 30 s)."
                ),
                "parameters": [ID_PARAM, *query_params("wait")],
                "responses": {
                    "200": json_answer(ref("Result"), "Its result, or `pending`."),
                    "400": ERROR,
                    "404": ERROR,
                },
            }
        },
        "/api/dead": {
            "get": {
                "operationId": "listDead",
                "summary": "Dead letters, optionally of one worker.",
                "parameters": query_params("worker"),
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("Message")}, "Dead letters.")
                    | {
                        "links": {
                            "retry": _body_link("retryDead", "Retry the first.", {"id": _first("id")}),
                            "discard": _body_link("discardDead", "Discard the first.", {"id": _first("id")}),
                            "retryWorker": _body_link(
                                "retryDead", "Retry all of its worker's.", {"worker": _first("worker")}
                            ),
                            "message": _link("getMessage", "The first.", id=_first("id")),
                            "traces": _link(
                                "workerTraces", "The first one's worker's traces.", name=_first("worker")
                            ),
                        }
                    },
                    "400": ERROR,
                },
            }
        },
        "/api/dead/retry": _dead_change(
            "retryDead",
            "Queue dead letters again with fresh attempts: one by id or all of a worker.",
            "retried",
            "Retried.",
        ),
        "/api/dead/discard": _dead_change(
            "discardDead", "Delete dead letters: one by id or all of a worker.", "discarded", "Discarded."
        ),
        "/api/unknown": {
            "get": {
                "operationId": "listUnknown",
                "summary": "Workers emitted to that no running app defines (the 404 list).",
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("UnknownWorker")}, "Unknown workers.")
                    | {
                        "links": {
                            "purge": _link(
                                "purgeWorker", "Discard the first one's messages.", name=_first("name")
                            )
                        }
                    }
                },
            }
        },
        "/api/schedules": {
            "get": {
                "operationId": "listSchedules",
                "summary": "The schedules live runners publish (and the served app's own), by name.",
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("ScheduleStatus")}, "Schedules.")
                    | {
                        "links": {
                            "pause": _link("pauseSchedule", "Pause the first.", name=_first("name")),
                            "resume": _link("resumeSchedule", "Resume the first.", name=_first("name")),
                        }
                    }
                },
            }
        },
        "/api/schedules/{name}/pause": _schedule_change(
            "pauseSchedule", "Stop ticking a schedule (durable).", True
        ),
        "/api/schedules/{name}/resume": _schedule_change(
            "resumeSchedule", "Tick a schedule again (missed ticks follow its misfire policy).", False
        ),
        **STATS_PATHS,
        "/api/stream": {
            "get": {
                "operationId": "stream",
                "summary": "Server-sent events for the dashboard: `section` events with rendered HTML.",
                "parameters": query_params("page", "worker", "state", "q", "after", "range"),
                "responses": {
                    "200": {
                        "description": "An endless event stream; each event is described by its schema.",
                        "content": {"text/event-stream": {"schema": ref("SectionEvent")}},
                    },
                    "400": ERROR,
                    "503": {
                        "description": "Too many live streams are open (max_streams).",
                        "headers": _RETRY_AFTER,
                        "content": {"application/json": {"schema": ref("Error")}},
                    },
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus text format.",
                "responses": {
                    "200": {
                        "description": "Metrics.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        **health_paths(),
        "/messages/{id}": {
            "get": {
                "operationId": "messagePage",
                "summary": "The page of one message (HTML), with its kept traces.",
                "parameters": [
                    ID_PARAM,
                    {
                        **query_params("worker")[0],
                        "description": "The message's worker: shows its kept traces once it is done.",
                    },
                ],
                "responses": {
                    "200": {"description": "The page.", "content": _HTML},
                    "400": ERROR,
                    "404": {"description": "Nothing is stored or kept of this message.", "content": _HTML},
                },
            }
        },
        **_pages(),
    }


def _page(operation: str, summary: str, *params: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": list(params),
            "responses": {"200": {"description": "The page.", "content": _HTML}, "400": ERROR},
        }
    }


def _pages() -> dict[str, Any]:
    """The dashboard's pages (docs/dashboard.md)."""
    return {
        "/": _page(
            "dashboard",
            "The overview (HTML); with `worker`, that worker's page.",
            *query_params("worker", "state", "q", "after", "range"),
        ),
        "/workers": _page(
            "workersPage", "Every worker (HTML), filtered by name with `q`.", *query_params("q")
        ),
        "/workers/{name}": _page(
            "workerPage",
            "One worker's page (HTML): rules, charts, messages (paged, searchable), traces, dead letters.",
            name_param(),
            *query_params("state", "q", "after", "range"),
        ),
        "/runners": _page("runnersPage", "The runners (HTML)."),
        "/schedules": _page("schedulesPage", "The schedules (HTML)."),
        "/dead": _page("deadPage", "The dead letters (HTML)."),
        "/unknown": _page("unknownPage", "Workers emitted to that no running app defines (HTML)."),
        "/messages": _page(
            "messagesPage",
            "The oldest messages, or one by id (HTML).",
            *query_params("worker", "state", "q", "after"),
        ),
    }


_UNAUTHORIZED_TEXT = "A token is set and the request does not carry it"
_UNAUTHORIZED: dict[str, Any] = {
    "description": f"{_UNAUTHORIZED_TEXT}.",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "content": {"application/json": {"schema": ref("Error")}},
}
_UNAUTHORIZED_PAGE: dict[str, Any] = {
    "description": f"{_UNAUTHORIZED_TEXT} (a browser gets the sign-in page).",
    "headers": _UNAUTHORIZED["headers"],
    "content": {"application/json": {"schema": ref("Error")}, **_HTML},
}


def openapi_document() -> dict[str, Any]:
    paths = _paths()
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation["responses"]
            if "requestBody" in operation:
                responses.setdefault("413", ERROR)
            if method in ("post", "delete"):
                operation["parameters"] = [*operation.get("parameters", []), WRITE_HEADER]
            if operation.get("security") != []:  # the health probes need no token
                responses.setdefault("401", _UNAUTHORIZED_PAGE if path == "/" else _UNAUTHORIZED)
            responses.setdefault("403", ERROR)  # a client or host refused, or a write without the header
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Conveyor",
            "version": "1",
            "description": (
                "Durable background workers. All bodies are JSON. When CONVEYOR_TOKEN is set every request "
                "needs `Authorization: Bearer <token>`. Every write (POST, DELETE) needs the header "
                '`X-Conveyor-Request: 1`. Bad input is a 4xx with `{"error": ...}`, never a 500.'
            ),
        },
        "components": {**COMPONENTS, "schemas": {**COMPONENTS["schemas"], **STATS_SCHEMAS}},
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }
