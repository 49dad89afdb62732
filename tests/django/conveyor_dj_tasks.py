"""Tasks of the Django tests (after Django's own tests/tasks/tasks.py), imported by module path."""

from __future__ import annotations

import threading
import time
from typing import Any

from conveyor.django._api import TaskContext

try:
    from django.tasks import task
except ImportError:
    from django_tasks import task


@task()
def noop_task(*args: Any, **kwargs: Any) -> None:
    return None


@task()
async def noop_task_async(*args: Any, **kwargs: Any) -> None:
    return None


@task()
def calculate_meaning_of_life() -> int:
    return 42


@task()
async def add_async(a: int, b: int) -> int:
    return a + b


@task()
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@task()
def failing_task_value_error() -> None:
    raise ValueError("This task failed due to ValueError")


@task()
def failing_task_system_exit() -> None:
    raise SystemExit("This task failed due to SystemExit")


@task()
def complex_exception() -> None:
    raise ValueError(ValueError("This task failed"))


@task()
def complex_return_value() -> Any:
    return time.monotonic  # not JSON: the task fails with a TypeError


@task(takes_context=True)
def get_task_id(context: TaskContext) -> str:
    return context.task_result.id


@task(takes_context=True)
def check_context(context: TaskContext, attempt: int) -> int:
    assert isinstance(context, TaskContext)
    assert context.attempt == attempt
    return context.attempt


@task(takes_context=True)
def fail_first_attempt(context: TaskContext) -> int:
    if context.attempt == 1:
        raise RuntimeError("first attempt fails")
    return context.attempt


class OrderError(Exception):
    pass


@task()
def raise_custom() -> None:
    raise OrderError("no such order")


gate = threading.Event()
"""``blocked`` waits for it: a test sees the task RUNNING meanwhile."""


@task()
def blocked() -> str:
    if not gate.wait(30):
        raise TimeoutError("the test never opened the gate")
    return "through"


@task()
def always_fails(n: int) -> None:
    raise KeyError(n)


@task()
def cancels() -> None:
    import conveyor

    raise conveyor.Cancel("the order was deleted")
