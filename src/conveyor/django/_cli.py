"""The command line of ``python -m conveyor.django``: ``run`` sets Django up and runs the runners of a
``ConveyorBackend`` (as ``conveyor run`` does for an app)."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

__all__ = ["main"]


@click.group()
def main() -> None:
    """Conveyor for Django's tasks (docs/django.md)."""


@main.command()
@click.option("--settings", help="The Django settings module (default: $DJANGO_SETTINGS_MODULE).")
@click.option("--backend", help="The alias in TASKS of the ConveyorBackend to run (needed if several).")
@click.option("--processes", type=click.IntRange(min=1), help="Runner processes (default: the CPU count).")
@click.option("--concurrency", type=click.IntRange(min=1), help="Tasks each runner runs at once (50).")
def run(settings: str | None, backend: str | None, processes: int | None, concurrency: int | None) -> None:
    """Run the tasks of a ConveyorBackend until SIGTERM or Ctrl-C."""
    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        _fail("no Django settings: set DJANGO_SETTINGS_MODULE or pass --settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections

    try:
        django.setup()
        from ._api import task_backends
        from ._backend import ConveyorBackend

        ours = [a for a in task_backends.settings if isinstance(task_backends[a], ConveyorBackend)]
        if backend is None and len(ours) != 1:
            _fail(
                f"name the backend to run with --backend (ConveyorBackend aliases in TASKS: {_listed(ours)})"
            )
        if backend is not None and backend not in ours:
            _fail(f"TASKS has no ConveyorBackend {backend!r} (it has: {_listed(ours)})")
        app = task_backends[backend or ours[0]].app
    except (ImportError, ImproperlyConfigured) as error:
        _fail(f"{type(error).__name__}: {error}")
    connections.close_all()  # runner processes are forked: each opens connections of its own
    app.run(processes, concurrency)


def _listed(names: list[str]) -> str:
    return ", ".join(names) or "none"


def _fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit status 2 (as ``conveyor``'s own commands)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
