"""The Conveyor handler behind each queue of a ``ConveyorBackend``: it runs, in a runner, the Django
task a message names, sends Django's ``task_started`` and ``task_finished`` signals there, and returns
the envelope that ``get_result`` reads once the task succeeded (``_record.py``)."""

from __future__ import annotations

import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections

from .._context import current
from .._control import Cancel, Incomplete, Retry
from .._message import Message, Trace
from ._api import (
    FAILED,
    READY,
    RUNNING,
    SUCCESSFUL,
    TaskContext,
    TaskError,
    TaskResult,
    normalize_json,
    task_finished,
    task_started,
)
from ._record import ENVELOPE, attempt_line, errors_of, load_task, runner_ids

if TYPE_CHECKING:
    from .._app import App

__all__ = ["QueueHandler", "runner_id"]


def runner_id() -> str:
    """This process's id in ``TaskResult.worker_ids``: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class QueueHandler:
    """Runs the tasks of one Django queue: ``handler(event, msg)`` for Conveyor's worker."""

    app: App
    alias: str
    queue: str
    max_attempts: int
    sender: type[Any]
    """The signals' sender: the backend's class, as Django's own backends send."""

    def handler(self) -> Callable[[Any, Message], dict[str, Any]]:
        def handle(event: Any, msg: Message) -> dict[str, Any]:
            return self.run(event, msg)

        return handle

    def run(self, event: Any, msg: Message) -> dict[str, Any]:
        me = runner_id()
        ctx = current.get()
        if ctx is not None:
            ctx.logs.append(attempt_line(msg.attempt, me))
        before = self._earlier(msg) if msg.attempt > 1 else []
        task = load_task(event["task"], backend=self.alias, queue=self.queue, priority=msg.priority)
        now = datetime.now(UTC)
        result: TaskResult[Any] = TaskResult(
            task=task,
            id=str(msg.id),
            status=RUNNING,
            enqueued_at=msg.enqueued_at,
            started_at=before[0].started_at if before else now,
            finished_at=None,
            last_attempted_at=now,
            args=event.get("args", []),
            kwargs=event.get("kwargs", {}),
            backend=self.alias,
            errors=errors_of(before),
            worker_ids=runner_ids(before, msg.attempt, me),
        )
        close_old_connections()
        task_started.send(sender=self.sender, task_result=result)
        try:
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            value = normalize_json(value)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            again = isinstance(exc, Incomplete | Retry) or (
                not isinstance(exc, Cancel) and msg.attempt < self.max_attempts
            )
            if not isinstance(exc, Incomplete):
                result.errors.append(_error(exc))
            object.__setattr__(result, "status", READY if again else FAILED)
            object.__setattr__(result, "finished_at", None if again else datetime.now(UTC))
            task_finished.send(sender=self.sender, task_result=result)
            raise
        finally:
            close_old_connections()
        finished = datetime.now(UTC)
        object.__setattr__(result, "status", SUCCESSFUL)
        object.__setattr__(result, "finished_at", finished)
        object.__setattr__(result, "_return_value", value)
        task_finished.send(sender=self.sender, task_result=result)
        return {
            ENVELOPE: 1,
            "task": task.module_path,
            "value": value,
            "args": result.args,
            "kwargs": result.kwargs,
            "queue": self.queue,
            "priority": msg.priority,
            "enqueued_at": msg.enqueued_at.isoformat(),
            "started_at": result.started_at.isoformat() if result.started_at else None,
            "last_attempted_at": now.isoformat(),
            "finished_at": finished.isoformat(),
            "errors": [[e.exception_class_path, e.traceback] for e in result.errors],
            "worker_ids": result.worker_ids,
        }

    def _earlier(self, msg: Message) -> list[Trace]:
        """The kept traces of this message's earlier attempts, oldest first."""
        return [t for t in reversed(self.app.traces(msg.worker)) if t.message_id == msg.id]


def _error(exc: BaseException) -> TaskError:
    kind = type(exc)
    return TaskError(
        exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
        traceback="".join(traceback.format_exception(exc)),
    )
