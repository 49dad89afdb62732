"""ConveyorBackend against Django's task API: the cases of Django's own tests/tasks (test_tasks.py,
test_immediate_backend.py) that apply to a backend whose tasks run in a worker, run here through a
Conveyor runner in this process (``app.drain``); test_django_example.py runs tasks in a real runner
process, test_django_postgres.py enqueues inside Django's transactions."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import conveyor_dj_tasks as t
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from conveyor.django import ConveyorBackend
from conveyor.django._api import (
    InvalidTaskError,
    TaskResultDoesNotExist,
    TaskResultStatus,
    task_enqueued,
    task_finished,
    task_started,
)

try:
    from django.tasks.exceptions import TaskResultMismatch
except ImportError:
    from django_tasks.exceptions import TaskResultMismatch

ME = f"{socket.gethostname()}:{os.getpid()}"


def test_the_backend_supports_every_feature_and_maps_queues_to_workers(backend: Any) -> None:
    assert isinstance(backend, ConveyorBackend)
    assert backend.supports_defer and backend.supports_async_task
    assert backend.supports_get_result and backend.supports_priority
    assert backend.worker_for("default") == "django.default"
    assert backend.worker_for("queue_1") == "django.queue_1"
    assert sorted(backend.app.registry.names()) == ["django.default", "django.queue_1"]


def test_the_task_api_is_djangos_own_from_django_6_on() -> None:
    import importlib

    import django

    from conveyor.django import _api

    api = "django_tasks" if django.VERSION < (6, 0) else "django.tasks"  # the backport before Django 6
    module = importlib.import_module
    assert _api.BaseTaskBackend is module(f"{api}.backends.base").BaseTaskBackend
    for name in ("Task", "TaskResult", "TaskResultStatus", "TaskContext", "TaskError"):
        assert getattr(_api, name) is getattr(module(f"{api}.base"), name), name
    for name in ("task_enqueued", "task_started", "task_finished"):
        assert getattr(_api, name) is getattr(module(f"{api}.signals"), name), name
    assert _api.TaskResultDoesNotExist is module(f"{api}.exceptions").TaskResultDoesNotExist
    assert issubclass(ConveyorBackend, _api.BaseTaskBackend)


def test_workers_can_be_named(configure: Callable[..., Any]) -> None:
    backend = configure(WORKERS={"queue_1": "emails"})
    result = t.noop_task.using(queue_name="queue_1").enqueue()
    msg = backend.app.message(int(result.id))
    assert msg is not None and msg.worker == "emails"
    assert backend.app.drain() == 1


def test_enqueue_gives_a_ready_result_that_get_result_returns(backend: Any) -> None:
    result = t.noop_task.enqueue(1, two=[3])
    assert result.status == TaskResultStatus.READY
    assert (result.task, result.args, result.kwargs) == (t.noop_task, [1], {"two": [3]})
    assert result.enqueued_at is not None and result.started_at is None
    assert result.attempts == 0 and not result.is_finished
    assert t.noop_task.get_result(result.id) == result
    assert backend.get_result(result.id) == result


@pytest.mark.parametrize("task", [t.noop_task, t.noop_task_async])
def test_a_task_runs_in_a_runner_and_its_result_is_kept(backend: Any, task: Any) -> None:
    result = task.enqueue(1, two=3)
    assert backend.app.drain() == 1
    got = task.get_result(result.id)
    assert got.status == TaskResultStatus.SUCCESSFUL and got.is_finished
    assert got.started_at is not None and got.last_attempted_at is not None and got.finished_at is not None
    assert got.enqueued_at is not None
    assert got.finished_at >= got.started_at >= got.enqueued_at
    assert got.return_value is None
    assert (got.task, got.args, got.kwargs) == (task, [1], {"two": 3})
    assert got.attempts == 1 and got.worker_ids == [ME] and got.errors == []
    result.refresh()  # Django's refresh() reads get_result
    assert result.status == TaskResultStatus.SUCCESSFUL and result.finished_at == got.finished_at


def test_async_enqueue_and_get_result(backend: Any) -> None:
    async def go() -> Any:
        result = await t.add_async.aenqueue(2, 3)
        await asyncio.to_thread(backend.app.drain)
        return await t.add_async.aget_result(result.id)

    got = asyncio.run(go())
    assert got.status == TaskResultStatus.SUCCESSFUL and got.return_value == 5


def test_the_return_value(backend: Any) -> None:
    meaning = t.calculate_meaning_of_life.enqueue()
    echoed = t.echo.enqueue("a", (1, 2), k={"x": None})
    backend.app.drain()
    assert t.calculate_meaning_of_life.get_result(meaning.id).return_value == 42
    assert t.echo.get_result(echoed.id).return_value == {"args": ["a", [1, 2]], "kwargs": {"k": {"x": None}}}


@pytest.mark.parametrize(
    ("task", "exception", "message"),
    [
        (t.failing_task_value_error, ValueError, "This task failed due to ValueError"),
        (t.failing_task_system_exit, SystemExit, "This task failed due to SystemExit"),
        (t.raise_custom, t.OrderError, "no such order"),
    ],
)
def test_a_task_that_raises_fails(backend: Any, task: Any, exception: type, message: str) -> None:
    result = task.enqueue()
    backend.app.drain()
    got = task.get_result(result.id)
    assert got.status == TaskResultStatus.FAILED and got.is_finished
    with pytest.raises(ValueError, match="Task failed"):
        got.return_value  # noqa: B018
    assert got.started_at is not None and got.finished_at is not None
    assert got.finished_at >= got.started_at >= got.enqueued_at
    assert len(got.errors) == 1 and got.errors[0].exception_class is exception
    name = (
        f"{exception.__module__}.{exception.__qualname__}"
        if exception is t.OrderError
        else exception.__name__
    )
    assert got.errors[0].traceback.rstrip("\n").endswith(f"{name}: {message}"), got.errors[0].traceback
    assert got.attempts == 1 and got.worker_ids == [ME]
    assert (got.task, got.args, got.kwargs) == (task, [], {})


def test_a_complex_exception(backend: Any) -> None:
    result = t.complex_exception.enqueue()
    backend.app.drain()
    got = t.complex_exception.get_result(result.id)
    assert got.status == TaskResultStatus.FAILED
    assert got.errors[0].exception_class is ValueError
    assert "This task failed" in got.errors[0].traceback


def test_a_return_value_that_is_not_json_fails_the_task(backend: Any) -> None:
    result = t.complex_return_value.enqueue()
    backend.app.drain()
    got = t.complex_return_value.get_result(result.id)
    assert got.status == TaskResultStatus.FAILED
    assert got.errors[0].exception_class is TypeError
    assert "Unsupported type" in got.errors[0].traceback


def test_takes_context(backend: Any) -> None:
    ids = t.get_task_id.enqueue()
    context = t.check_context.enqueue(1)
    backend.app.drain()
    assert t.get_task_id.get_result(ids.id).return_value == ids.id
    assert t.check_context.get_result(context.id).return_value == 1


def test_retries_keep_the_errors_and_attempts(configure: Callable[..., Any]) -> None:
    backend = configure(WORKER_OPTIONS={"max_attempts": 3, "backoff": 0})
    result = t.fail_first_attempt.enqueue()
    backend.app.drain()
    got = t.fail_first_attempt.get_result(result.id)
    assert got.status == TaskResultStatus.SUCCESSFUL and got.return_value == 2
    assert got.attempts == 2 and got.worker_ids == [ME, ME]
    assert [e.exception_class for e in got.errors] == [RuntimeError]
    assert got.last_attempted_at is not None and got.started_at is not None
    assert got.last_attempted_at > got.started_at


def test_a_running_task_is_running(backend: Any) -> None:
    t.gate.clear()
    result = t.blocked.enqueue()
    runner = threading.Thread(target=backend.app.drain)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while (status := t.blocked.get_result(result.id).status) == TaskResultStatus.READY:
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.01)
        got = t.blocked.get_result(result.id)
        assert status == TaskResultStatus.RUNNING and got.attempts == 1 and not got.is_finished
    finally:
        t.gate.set()
        runner.join(30)
    assert t.blocked.get_result(result.id).return_value == "through"


def test_signals_fire_where_the_task_enqueues_starts_and_finishes(backend: Any) -> None:
    seen: list[tuple[str, Any, str, str]] = []

    def receiver(name: str) -> Callable[..., None]:
        def got(sender: Any, task_result: Any, **kwargs: Any) -> None:
            seen.append((name, sender, task_result.id, str(task_result.status)))

        return got

    receivers = [(s, receiver(n)) for s, n in ((task_enqueued, "enqueued"), (task_started, "started"))]
    receivers.append((task_finished, receiver("finished")))
    for signal, function in receivers:
        signal.connect(function)
    try:
        ok, bad = t.noop_task.enqueue(), t.failing_task_value_error.enqueue()
        assert [s[0] for s in seen] == ["enqueued", "enqueued"]
        backend.app.drain()
    finally:
        for signal, function in receivers:
            signal.disconnect(function)
    assert all(s[1] is ConveyorBackend for s in seen)
    assert [s[2:] for s in seen if s[2] == ok.id] == [
        (ok.id, "READY"),
        (ok.id, "RUNNING"),
        (ok.id, "SUCCESSFUL"),
    ]
    assert [s[2:] for s in seen if s[2] == bad.id] == [
        (bad.id, "READY"),
        (bad.id, "RUNNING"),
        (bad.id, "FAILED"),
    ]


def test_priority_is_the_messages_and_orders_the_queue(backend: Any) -> None:
    low = t.calculate_meaning_of_life.using(priority=-10).enqueue()
    high = t.calculate_meaning_of_life.using(priority=10).enqueue()
    msg = backend.app.message(int(high.id))
    assert msg is not None and msg.priority == 10
    asyncio.run(backend.app.runner(concurrency=1).drain())
    first, second = (t.calculate_meaning_of_life.get_result(r.id) for r in (high, low))
    assert first.finished_at is not None and second.started_at is not None
    assert first.finished_at <= second.started_at
    assert (first.task.priority, second.task.priority) == (10, -10)


def test_run_after_defers_the_task(backend: Any) -> None:
    later = timezone.now() + timedelta(hours=1)
    result = t.noop_task.using(run_after=later).enqueue()
    msg = backend.app.message(int(result.id))
    assert msg is not None and msg.state == "scheduled"
    assert abs((msg.run_at - later).total_seconds()) < 0.01
    assert backend.app.drain() == 0
    assert t.noop_task.get_result(result.id).status == TaskResultStatus.READY


def test_bad_arguments_are_refused_and_nothing_is_written(backend: Any) -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        t.noop_task.enqueue(datetime.now())
    with pytest.raises(InvalidTaskError, match="Queue 'queue-2' is not valid"):
        t.noop_task.using(queue_name="queue-2")
    with pytest.raises(InvalidTaskError, match="priority must be a whole number"):
        t.noop_task.using(priority=101)
    with pytest.raises(InvalidTaskError, match="aware"):
        t.noop_task.using(run_after=datetime.now())
    assert backend.app.messages() == []


def test_results_that_do_not_exist(backend: Any) -> None:
    with pytest.warns(UserWarning, match="someone-else"):
        other = backend.app.emit({"task": "conveyor_dj_tasks.noop_task"}, "someone-else")
    for missing in ("123", "abc", "-1", "", str(other)):
        with pytest.raises(TaskResultDoesNotExist):
            t.noop_task.get_result(missing)
    with pytest.raises(TaskResultDoesNotExist):
        asyncio.run(t.noop_task.aget_result("123"))
    result = t.noop_task_async.enqueue()
    with pytest.raises(TaskResultMismatch, match="Task does not match"):
        t.noop_task.get_result(result.id)


def test_a_result_is_equal_to_itself_read_again(backend: Any) -> None:
    result = t.echo.enqueue(1)
    backend.app.drain()
    a, b = t.echo.get_result(result.id), t.echo.get_result(result.id)
    assert a == b and dataclasses.asdict(a) == dataclasses.asdict(b)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"QUEUES": [], "OPTIONS": {}}, "QUEUES"),
        ({"OPTIONS": {"STOER": "x"}}, "unknown option"),
        ({"OPTIONS": {"STORE": "sqlite:///x.db", "DATABASE": "pg"}}, "not both"),
        ({"OPTIONS": {"WORKERS": {"nope": "w"}}}, "not in QUEUES"),
        ({"OPTIONS": {"DATABASE": "default"}}, "PostgreSQL"),
        ({"OPTIONS": {"DATABASE": "missing"}}, "no database"),
        ({"OPTIONS": {"WORKERS": {"default": "bad name!"}}}, "worker name"),
        ({"OPTIONS": {"WORKER_OPTIONS": {"retries": 3}}}, "retries"),
        ({"OPTIONS": {"WORKER_OPTIONS": {"max_attempts": 0}}}, "max_attempts"),
        ({"OPTIONS": {"WORKER_OPTIONS": {"results": -1}}}, "results"),
    ],
)
def test_bad_settings_are_one_clear_error(settings: Any, params: dict[str, Any], says: str) -> None:
    from conveyor.django._api import task_backends

    settings.TASKS = {"default": {"BACKEND": "conveyor.django.ConveyorBackend", **params}}
    with pytest.raises(ImproperlyConfigured, match=says):
        task_backends["default"].app  # noqa: B018


def test_a_task_that_fails_every_attempt_fails_with_every_error(configure: Callable[..., Any]) -> None:
    backend = configure(WORKER_OPTIONS={"max_attempts": 2, "backoff": 0})
    result = t.always_fails.enqueue(5)
    backend.app.drain()
    got = t.always_fails.get_result(result.id)
    assert got.status == TaskResultStatus.FAILED and got.attempts == 2 and got.worker_ids == [ME, ME]
    assert [e.exception_class for e in got.errors] == [KeyError, KeyError]
    assert got.finished_at is not None and got.last_attempted_at is not None
    assert got.finished_at >= got.last_attempted_at > got.started_at
    [dead] = backend.app.dead()
    assert dead.id == int(result.id)


def test_conveyor_cancel_from_a_task_fails_it_at_once(configure: Callable[..., Any]) -> None:
    import conveyor

    backend = configure(WORKER_OPTIONS={"max_attempts": 5})
    result = t.cancels.enqueue()
    backend.app.drain()
    got = t.cancels.get_result(result.id)
    assert got.status == TaskResultStatus.FAILED and got.attempts == 1
    assert [e.exception_class for e in got.errors] == [conveyor.Cancel]
    assert "the order was deleted" in got.errors[0].traceback


def test_with_a_store_url_enqueue_commits_on_its_own(backend: Any, django_db_blocker: Any) -> None:
    """The documented difference: a STORE URL (here SQLite) is not Django's database, so a task enqueued
    in a transaction that rolls back is enqueued all the same."""
    from django.db import transaction

    class Boom(Exception):
        pass

    with django_db_blocker.unblock(), pytest.raises(Boom), transaction.atomic():
        result = t.noop_task.enqueue()
        raise Boom
    assert backend.app.message(int(result.id)) is not None
