"""Django's task signals, logged in the process where each fires: ``task_enqueued`` where the task is
enqueued, ``task_started`` and ``task_finished`` in the Conveyor runner that runs it."""

from __future__ import annotations

import logging
import os
from typing import Any

try:
    from django.tasks.signals import task_enqueued, task_finished, task_started
except ImportError:  # Django < 6.0: the django-tasks backport
    from django_tasks.signals import task_enqueued, task_finished, task_started

log = logging.getLogger("orders")


def _log(name: str) -> Any:
    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        log.info("pid %d: task %s %s %s", os.getpid(), task_result.id, name, task_result.status)

    return receiver


for _signal, _name in ((task_enqueued, "enqueued"), (task_started, "started"), (task_finished, "finished")):
    _signal.connect(_log(_name), weak=False)
