"""``conveyor health``: exit 0 when the store answers, its schema is current and live runners serve
it; 1 otherwise (for ``exec`` probes and scripts, where ``conveyor run --no-web`` serves no /healthz).

It looks without changing anything: no store is created or migrated (``_stores._probe``).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import click

from ._common import _load, bad_input, json_option, opt, print_json, safe_url, store_option


@click.command()
@click.argument("app_ref", metavar="[APP]", required=False)
@store_option
@opt(
    "--here",
    is_flag=True,
    envvar="CONVEYOR_HEALTH_HERE",
    help="Count only runners on this host (their id starts with this host's name).",
)
@opt(
    "--min-runners",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    envvar="CONVEYOR_HEALTH_MIN_RUNNERS",
    help="Live runners needed to be healthy (0: check only the store).",
)
@json_option
def health(app_ref: str | None, store: str | None, here: bool, min_runners: int, as_json: bool) -> None:
    """Exit 0 if the store answers, its schema is current and live runners serve it; else 1."""
    from .._stores import resolve_url
    from .._stores._base import RUNNER_TTL

    ttl = RUNNER_TTL
    if app_ref is not None:
        app = _load(app_ref)
        url = store or app.url
        ttl = max(ttl, app.lease)  # runners heartbeat every lease / 3
    else:
        url = resolve_url(store)
    with bad_input():
        report = _check(url, ttl, socket.gethostname() if here else None, min_runners)
    if as_json:
        print_json(report)
    else:
        _print(report)
    sys.exit(0 if report["healthy"] else 1)


def _check(url: str, ttl: float, host: str | None, min_runners: int) -> dict[str, Any]:
    from .._stores._probe import probe, schema_problem

    report: dict[str, Any] = {
        "healthy": False,
        "store": safe_url(url),
        "reachable": False,
        "schema": None,
        "runners": [],
        "reason": None,
    }
    try:
        found = probe(url, ttl)
    except (ValueError, TypeError):
        raise
    except Exception as error:
        report["reason"] = f"cannot read the store: {' '.join(str(error).split())[:300]}"
        return report
    report["reachable"] = True
    report["schema"] = {"version": found.version, "expected": found.expected}
    runners = [r for r in found.runners if host is None or r.id.startswith(f"{host}:")]
    report["runners"] = [{"id": r.id, "seen": round(r.seen, 3)} for r in runners]
    problem = schema_problem(found.version, found.expected)
    if problem is None and len(runners) < min_runners:
        where = f" on host {host}" if host else ""
        problem = f"{len(runners)} live runners{where} (seen within {ttl:g} s), {min_runners} needed"
    report["reason"] = problem
    report["healthy"] = problem is None
    return report


def _print(report: dict[str, Any]) -> None:
    click.echo(f"store: {report['store']}: {'reachable' if report['reachable'] else 'unreachable'}")
    schema = report["schema"]
    if schema is not None:
        current = "current" if schema["version"] == schema["expected"] else f"expected {schema['expected']}"
        click.echo(f"schema: version {schema['version']} ({current})")
        click.echo(f"runners: {len(report['runners'])} live")
        for r in report["runners"]:
            click.echo(f"  {r['id']}  seen {r['seen']:.1f} s ago")
    if report["healthy"]:
        click.echo("healthy")
    else:
        click.echo(f"unhealthy: {report['reason']}", err=True)
