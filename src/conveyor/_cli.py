"""The ``conveyor`` command."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group()
def main() -> None:
    """Conveyor: durable background workers."""
