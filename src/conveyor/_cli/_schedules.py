"""The ``schedules`` command group: list schedules, pause and resume one.

``conveyor schedules [APP]`` lists the schedules published to the store by live runners (and APP's own,
when given); ``conveyor schedules pause NAME [APP]`` and ``resume NAME [APP]`` change one, durably. A
name no live runner publishes (and APP does not define) exits 1; an invalid name exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from .._registry import NAME_RULE, check_worker_name
from ._common import bad_input, console, json_option, open_app, print_json, store_option, table, when

if TYPE_CHECKING:
    from rich.table import Table

    from .. import ScheduleStatus

__all__ = ["schedules"]


class ScheduleName(click.ParamType[str]):
    """A schedule name, by the same rule as worker names."""

    name = "schedule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_worker_name(value)
        except ValueError:
            self.fail(f"invalid schedule name {value!r:.80}: a schedule name is {NAME_RULE}", param, ctx)


SCHEDULE = ScheduleName()


class _Schedules(click.Group):
    """A group whose optional APP argument is not mistaken for a subcommand: ``schedules pause N``
    runs ``pause``; ``schedules app.py --json`` lists app.py's schedules (options after APP too)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self._first_positional(args) not in self.commands:
            ctx.allow_interspersed_args = True  # no subcommand: a listing, whose options may follow APP
        super().parse_args(ctx, args)
        ref = ctx.params.get("app_ref")
        if isinstance(ref, str) and ref in self.commands:
            ctx.params["app_ref"] = None
            ctx.args = [*ctx._protected_args, *ctx.args]
            ctx._protected_args = [ref]
        return ctx.args

    def _first_positional(self, args: list[str]) -> str | None:
        valued = {o for p in self.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                return next(tokens, None)
            if token in valued:
                next(tokens, None)
            elif not token.startswith("-"):
                return token
        return None


class _GroupApp(click.Argument):
    """The group's [APP], left out of its subcommands' usage line (``conveyor schedules pause NAME``)."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return super().get_usage_pieces(ctx) if isinstance(ctx.command, click.Group) else []


def _every(seconds: float) -> str:
    return f"every {seconds:g} s"


def schedules_table(found: Sequence[ScheduleStatus]) -> Table:
    out = table("schedule", "worker", "when", "tz", "misfire", "state", "last run", "next run")
    for s in found:
        out.add_row(
            s.name,
            s.worker,
            s.cron if s.cron is not None else _every(s.every or 0),
            s.tz,
            s.misfire,
            "paused" if s.paused else "active",
            when(s.last_at) if s.last_at else "never",
            when(s.next_at) if s.next_at and not s.paused else "",
        )
    return out


@click.group(cls=_Schedules, invoke_without_command=True, subcommand_metavar="[pause NAME | resume NAME]")
@click.argument("app_ref", metavar="[APP]", required=False, cls=_GroupApp)
@store_option
@json_option
@click.pass_context
def schedules(ctx: click.Context, app_ref: str | None, store: str | None, as_json: bool) -> None:
    """Schedules: name, worker, cron or interval, time zone, misfire policy, state, last and next run.

    Without APP: the schedules that live runners publish to the store; with APP, its own too.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = open_app(store, app_ref, create=False)
    with bad_input():
        found = app.schedules()
    if as_json:
        print_json(found)
    else:
        console().print(schedules_table(found) if found else "no schedules")


def _change_command(name: str, doc: str, done: str) -> click.Command:
    @click.command(name=name, help=doc)
    @click.argument("schedule", metavar="NAME", type=SCHEDULE)
    @click.argument("app_ref", metavar="[APP]", required=False)
    @store_option
    @click.pass_context
    def command(ctx: click.Context, schedule: str, app_ref: str | None, store: str | None) -> None:
        parent = ctx.parent.params if ctx.parent is not None else {}
        app = open_app(store or parent.get("store"), app_ref)
        change = app.pause_schedule if name == "pause" else app.resume_schedule
        with bad_input():
            try:
                change(schedule)
            except LookupError:
                raise click.ClickException(
                    f"no schedule {schedule!r}: no live runner publishes it"
                    + ("" if app_ref is None else " and APP does not define it")
                ) from None
        click.echo(f"{done} schedule {schedule}")

    return command


schedules.add_command(
    _change_command("pause", "Stop ticking schedule NAME on every runner (durable).", "paused")
)
schedules.add_command(
    _change_command("resume", "Tick schedule NAME again; missed ticks follow its misfire policy.", "resumed")
)
