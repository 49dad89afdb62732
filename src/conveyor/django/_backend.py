"""``ConveyorBackend``: Django's task backend on Conveyor (docs/django.md)."""

from __future__ import annotations

import threading
from datetime import UTC
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connections
from django.utils import timezone

from .._app import App
from .._results import Failed
from ._api import (
    READY,
    BaseTaskBackend,
    Task,
    TaskResult,
    TaskResultDoesNotExist,
    normalize_json,
    task_enqueued,
)
from ._handler import QueueHandler
from ._options import BackendOptions, parse_options
from ._record import ENVELOPE, from_envelope, from_message

__all__ = ["ConveyorBackend"]

P = ParamSpec("P")
T = TypeVar("T")

_apps: dict[tuple[str, str | None, str], App] = {}
_apps_lock = threading.Lock()


class ConveyorBackend(BaseTaskBackend):
    """A ``django.tasks`` backend whose tasks are Conveyor messages, run by Conveyor runners
    (``python -m conveyor.django run``). Each queue is a Conveyor worker (``django.<queue>`` unless
    ``OPTIONS["WORKERS"]`` maps it), a task's priority is the message's, ``run_after`` its ``at=``."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.conveyor_options: BackendOptions = parse_options(alias, set(self.queues), self.options)
        self._queue_of = {w: q for q, w in self.conveyor_options.workers.items()}

    # -- the Conveyor app ------------------------------------------------------------------------
    @property
    def app(self) -> App:
        """The Conveyor app of this backend: one per process (Django makes a backend per thread)."""
        o = self.conveyor_options
        key = (self.alias, o.store, repr(sorted(o.workers.items())))
        with _apps_lock:
            app = _apps.get(key)
            if app is None:
                app = _apps[key] = self._build()
            return app

    def _build(self) -> App:
        o = self.conveyor_options
        app = App(o.store)
        for queue, worker in o.workers.items():
            try:
                attempts = int(o.worker_options["max_attempts"])
                handler = QueueHandler(app, self.alias, queue, attempts, type(self)).handler()
                app.worker(worker, **o.worker_options)(handler)
            except (TypeError, ValueError) as error:
                raise ImproperlyConfigured(f"TASKS[{self.alias!r}]['OPTIONS']: {error}") from error
        return app

    def worker_for(self, queue: str) -> str:
        """The Conveyor worker that runs the tasks of a Django queue."""
        return self.conveyor_options.workers[queue]

    # -- Django's backend interface --------------------------------------------------------------
    def enqueue(self, task: Task[P, T], args: P.args, kwargs: P.kwargs) -> TaskResult[T]:  # type: ignore[valid-type]
        """Emit the task as a message to its queue's worker. With ``DATABASE``, through Django's own
        connection: inside ``transaction.atomic()`` the task commits or rolls back with it."""
        self.validate_task(task)
        event = {"task": task.module_path, "args": normalize_json(args), "kwargs": normalize_json(kwargs)}
        at = task.run_after
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at)
        message_id = self.app.emit(
            event, self.worker_for(task.queue_name), at=at, conn=self._connection(), priority=task.priority
        )
        msg = self.app.message(message_id)  # not visible yet inside an open transaction of DATABASE's
        result: TaskResult[T] = TaskResult(
            task=task,
            id=str(message_id),
            status=READY,
            enqueued_at=timezone.now().astimezone(UTC) if msg is None else msg.enqueued_at,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=event["args"],
            kwargs=event["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult[Any]:
        """The task's state now: from its message while it lives (READY, RUNNING; FAILED as a dead
        letter), from its kept result once it succeeded. ``TaskResultDoesNotExist`` otherwise."""
        message_id = _message_id(result_id)
        app = self.app
        for _ in range(3):  # a message that finishes between the two looks is looked up again
            msg = app.message(message_id)
            if msg is not None:
                queue = self._queue_of.get(msg.worker)
                if queue is None:
                    break
                own = [t for t in reversed(app.traces(msg.worker)) if t.message_id == message_id]
                return from_message(msg, own, backend=self.alias, queue=queue)
            try:
                value = app.result(message_id, timeout=0)
            except TimeoutError:
                continue
            except (Failed, LookupError):
                break
            if isinstance(value, dict) and value.get(ENVELOPE) == 1:
                queue = str(value.get("queue"))
                if queue in self.conveyor_options.workers:
                    return from_envelope(message_id, value, backend=self.alias, queue=queue)
            break
        raise TaskResultDoesNotExist(result_id)

    def _connection(self) -> Any:
        """Django's psycopg connection of the shared database (None: Conveyor's own pool)."""
        database = self.conveyor_options.database
        if database is None:
            return None
        connection = connections[database]
        connection.ensure_connection()
        return connection.connection


def _close_apps(*, setting: str, **kwargs: Any) -> None:
    """New ``TASKS`` settings (``override_settings`` in tests): close the apps of the old ones."""
    if setting == "TASKS":
        with _apps_lock:
            old = list(_apps.values())
            _apps.clear()
        for app in old:
            app.close()


setting_changed.connect(_close_apps)


def _message_id(result_id: object) -> int:
    text = str(result_id)
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise TaskResultDoesNotExist(result_id)
    return int(text)
