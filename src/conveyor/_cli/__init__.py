"""The ``conveyor`` command: run workers, serve the dashboard, and inspect or steer every queue.

Bad input (a malformed argument, an invalid worker name, JSON that does not parse, an APP that cannot
be found) exits with status 2 and one line on stderr. Every read command takes ``--json``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from ._control import block, cancel, discard, pause, purge, resume, retry, unblock
from ._emit import emit
from ._health import health
from ._reads import dead, message, messages, status, traces, unknown
from ._results import result
from ._run import demo, run, web
from ._schedules import schedules

__all__ = ["main"]


class _Main(click.Group):
    """A group whose errors are one line on stderr (click's usage errors print three)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            result = super().main(args, prog_name or "conveyor", complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            text = " ".join(error.format_message().split())
            click.echo(f"Error: {text}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="conveyor", prog_name="conveyor")
@click.option(
    "--debug",
    is_flag=True,
    envvar="CONVEYOR_DEBUG",
    show_envvar=True,
    help="Print the full traceback when an APP fails to import.",
)
def main(debug: bool) -> None:
    """Conveyor: durable background workers.

    APP is module:attr, a module, or path/to/file.py[:attr]. Every command takes --store URL
    (or $CONVEYOR_STORE); read commands take --json.
    """


for _command in (
    run, web, demo, emit, pause, resume, block, unblock, cancel, purge, retry, discard,
    status, traces, message, messages, result, dead, unknown, schedules, health,
):  # fmt: skip
    main.add_command(_command)
