"""A ConveyorBackend sharing Django's PostgreSQL database (``OPTIONS["DATABASE"]``): ``enqueue`` writes
through Django's own connection, so inside ``transaction.atomic()`` the task commits or rolls back with
the transaction. Against the real PostgreSQL (database ``test``, a schema of this test's own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import conveyor_dj_tasks as t
import pytest
from django.db import connections, transaction

from conveyor.django._api import SUCCESSFUL, task_backends


@pytest.fixture
def shared(pg_server: Any, settings: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The backend on Django's "pg" database, Conveyor's tables in a fresh schema."""
    schema = f"conveyor_dj_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        settings.TASKS = {
            "default": {
                "BACKEND": "conveyor.django.ConveyorBackend",
                "QUEUES": ["default"],
                "OPTIONS": {"DATABASE": "pg", "SCHEMA": schema},
            }
        }
        backend = task_backends["default"]
        try:
            yield backend
        finally:
            backend.app.close()
            with connections["pg"].cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connections["pg"].close()


def test_the_store_is_the_django_database(shared: Any) -> None:
    settings = connections["pg"].settings_dict
    assert shared.app.url.startswith(
        f"postgresql://{settings['USER']}@127.0.0.1:5432/test?schema=conveyor_dj_"
    )


def test_a_task_enqueued_in_a_committed_transaction_is_there_after_the_commit(shared: Any) -> None:
    with transaction.atomic(using="pg"):
        result = t.calculate_meaning_of_life.enqueue()
        # Django's connection holds the uncommitted row: Conveyor's own connections do not see it yet
        assert shared.app.message(int(result.id)) is None
    assert shared.app.message(int(result.id)) is not None
    assert shared.app.drain() == 1
    got = t.calculate_meaning_of_life.get_result(result.id)
    assert got.status == SUCCESSFUL and got.return_value == 42


def test_a_task_enqueued_in_a_rolled_back_transaction_never_was(shared: Any) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic(using="pg"):
        result = t.calculate_meaning_of_life.enqueue()
        raise Boom
    assert shared.app.message(int(result.id)) is None
    assert shared.app.messages() == []
    assert shared.app.drain() == 0


def test_outside_a_transaction_the_enqueue_commits_at_once(shared: Any) -> None:
    result = t.noop_task.enqueue(1)
    assert shared.app.message(int(result.id)) is not None
    assert shared.get_result(result.id) == result
