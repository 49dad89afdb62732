"""Django for the tests of this folder only: settings configured here (pytest-django finds them), a
``ConveyorBackend`` on a fresh store per test. The rest of the suite never imports Django."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BACKPORT = importlib.util.find_spec("django.tasks") is None
"""Django < 6.0 (Python 3.11): ``django.tasks`` comes from the ``django-tasks`` backport."""
PG = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "test",
    "HOST": "127.0.0.1",
    "PORT": "5432",
    "USER": "postgres",
}


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="conveyor-tests",
            USE_TZ=True,
            INSTALLED_APPS=["django_tasks"] if BACKPORT else [],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}, "pg": PG},
            TASKS={"default": {"BACKEND": "conveyor.django.ConveyorBackend", "QUEUES": ["default"]}},
        )


def conveyor_tasks(store: str, **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "conveyor.django.ConveyorBackend",
            "QUEUES": ["default", "queue_1"],
            "OPTIONS": {"STORE": store, **options},
        }
    }


@pytest.fixture
def configure(settings: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``configure(**OPTIONS)``: TASKS with a ConveyorBackend on a SQLite file of this test's own (and
    these options); returns the backend."""
    from conveyor.django._api import task_backends

    def use(**options: Any) -> Any:
        settings.TASKS = conveyor_tasks(f"sqlite:///{tmp_path / 'conveyor.db'}", **options)
        return task_backends["default"]

    yield use


@pytest.fixture
def backend(configure: Callable[..., Any]) -> Any:
    """The default task backend: a ConveyorBackend on a SQLite file of this test's own."""
    return configure()
