"""The command line of ``python -m conveyor.django``: ``run`` sets Django up and runs the runners of a
``ConveyorBackend`` (as ``conveyor run`` does for an app)."""

from __future__ import annotations

import os

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
        raise click.UsageError("no Django settings: set DJANGO_SETTINGS_MODULE or pass --settings")
    from django.db import connections

    import django

    django.setup()
    from ._api import task_backends
    from ._backend import ConveyorBackend

    ours = [a for a in task_backends.settings if isinstance(task_backends[a], ConveyorBackend)]
    if backend is None:
        if len(ours) != 1:
            found = ", ".join(ours) or "none"
            raise click.UsageError(
                f"name the backend to run with --backend (ConveyorBackend aliases: {found})"
            )
        backend = ours[0]
    elif backend not in ours:
        raise click.UsageError(
            f"TASKS has no ConveyorBackend {backend!r} (it has: {', '.join(ours) or 'none'})"
        )
    chosen = task_backends[backend]
    assert isinstance(chosen, ConveyorBackend)
    app = chosen.app
    connections.close_all()  # runner processes are forked: each opens connections of its own
    app.run(processes, concurrency)
