"""What Conveyor keeps about a Django task, read back as a Django ``TaskResult``.

A task is one Conveyor message: its event is ``{"task": module path, "args": [...], "kwargs": {...}}``
and the task result's id is the message id. While the message lives (queued, scheduled, running or a
dead letter) the ``TaskResult`` comes from it and from its worker's traces; once it succeeded, from the
value its handler returned, which the worker keeps for ``results`` seconds: the ``envelope`` below,
the task's return value with the times, runners and errors of its attempts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.module_loading import import_string

from .._message import Message, Trace
from ._api import FAILED, READY, RUNNING, SUCCESSFUL, Task, TaskError, TaskResult, TaskResultDoesNotExist

__all__ = [
    "ENVELOPE",
    "attempt_line",
    "errors_of",
    "from_envelope",
    "from_message",
    "load_task",
    "runner_ids",
]

ENVELOPE = "conveyor.django"
"""The key that marks a kept result as a Django task's envelope."""
_FAILED = ("error", "timeout", "lost", "cancelled")
_ATTEMPT = re.compile(r"^INFO conveyor\.django: attempt (\d+) on runner (\S+)$")
_STATUS = {
    "queued": READY,
    "scheduled": READY,
    "running": RUNNING,
    "dead": FAILED,
}


def attempt_line(attempt: int, runner: str) -> str:
    """The trace line that records which runner ran an attempt (read back by ``runner_ids``)."""
    return f"INFO conveyor.django: attempt {attempt} on runner {runner}"


def load_task(path: object, *, backend: str, queue: str, priority: int) -> Task[Any, Any]:
    """The ``Task`` at a module path, as the backend enqueued it (its queue and priority)."""
    try:
        found = import_string(str(path))
    except ImportError as error:
        raise TaskResultDoesNotExist(f"the task {path!r} cannot be imported: {error}") from error
    if not isinstance(found, Task):
        raise TaskResultDoesNotExist(f"{path!r} is not a task (decorate it with @task)")
    if (found.backend, found.queue_name, found.priority) == (backend, queue, priority):
        return found
    return found.using(backend=backend, queue_name=queue, priority=priority)


def runner_ids(traces: Sequence[Trace], attempts: int, current: str | None = None) -> list[str]:
    """One runner id per attempt (Django's ``attempts`` is their count); an attempt whose runner no kept
    trace names shows as ``"unknown"``."""
    known: dict[int, str] = {}
    for t in traces:
        for line in t.logs:
            m = _ATTEMPT.match(line)
            if m:
                known[int(m.group(1))] = m.group(2)
    if current is not None:
        known[attempts] = current
    return [known.get(n, "unknown") for n in range(1, attempts + 1)]


def errors_of(traces: Sequence[Trace]) -> list[TaskError]:
    """The errors of the failed attempts in ``traces`` (oldest first)."""
    return [
        TaskError(exception_class_path=_class_path(t), traceback=t.traceback or t.error or "")
        for t in traces
        if t.outcome in _FAILED
    ]


def _class_path(t: Trace) -> str:
    """The exception's class path: its name from the trace's error (``Name: text``), its module from
    the traceback's last line that names it (Python prints ``module.Name`` there, bare for builtins)."""
    if t.outcome == "cancelled":  # the handler raised conveyor.Cancel(reason): the error is the reason
        return "conveyor.Cancel"
    name = (t.error or "Exception").split(":", 1)[0].strip() or "Exception"
    for line in reversed((t.traceback or "").splitlines()):
        head = line.split(":", 1)[0].strip()
        if head == name or head.endswith(f".{name}"):
            return head if "." in head else f"builtins.{head}"
    return f"builtins.{name}"


def from_message(msg: Message, traces: Sequence[Trace], *, backend: str, queue: str) -> TaskResult[Any]:
    """A live or dead message as a ``TaskResult`` (``traces``: its own, oldest first)."""
    event = msg.event if isinstance(msg.event, dict) else {}
    task = load_task(event.get("task"), backend=backend, queue=queue, priority=msg.priority)
    status = _STATUS[msg.state]
    finished = traces[-1].finished_at if traces and status == FAILED else None
    return TaskResult(
        task=task,
        id=str(msg.id),
        status=status,
        enqueued_at=msg.enqueued_at,
        started_at=traces[0].started_at if traces else None,
        finished_at=finished,
        last_attempted_at=traces[-1].started_at if traces else None,
        args=list(event.get("args", [])),
        kwargs=dict(event.get("kwargs", {})),
        backend=backend,
        errors=errors_of(traces),
        worker_ids=runner_ids(traces, msg.attempt),
    )


def from_envelope(message_id: int, value: dict[str, Any], *, backend: str, queue: str) -> TaskResult[Any]:
    """A succeeded task from the envelope its handler returned."""
    task = load_task(value["task"], backend=backend, queue=queue, priority=int(value.get("priority", 0)))
    result: TaskResult[Any] = TaskResult(
        task=task,
        id=str(message_id),
        status=SUCCESSFUL,
        enqueued_at=_time(value.get("enqueued_at")),
        started_at=_time(value.get("started_at")),
        finished_at=_time(value.get("finished_at")),
        last_attempted_at=_time(value.get("last_attempted_at")),
        args=list(value.get("args", [])),
        kwargs=dict(value.get("kwargs", {})),
        backend=backend,
        errors=[TaskError(exception_class_path=e[0], traceback=e[1]) for e in value.get("errors", [])],
        worker_ids=[str(w) for w in value.get("worker_ids", [])],
    )
    object.__setattr__(result, "_return_value", value.get("value"))
    return result


def _time(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None
