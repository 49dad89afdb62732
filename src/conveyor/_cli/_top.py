"""``conveyor top``: the live overview in the terminal. Every worker with its counts and its rates per
minute (from the runners' stats), the runners with their busy slots, and the latest failures; ``q``
quits. ``--json`` streams one snapshot per line instead.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
import orjson

from ._common import (
    console,
    json_option,
    open_app,
    opt,
    safe_url,
    seconds,
    stop_signals,
    store_option,
    table,
    when,
)

if TYPE_CHECKING:
    from rich.console import Group

    from .._app import App
    from .._message import Trace
    from .._stats import StatsBucket

__all__ = ["snapshot", "top"]

FAILURES = 10
"""The latest failures a snapshot lists."""
FAILED_WORKERS = 5
"""The workers (most failures in the last minutes first) whose kept traces give those failures."""


@click.command()
@store_option
@json_option
@opt(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    envvar="CONVEYOR_WATCH_INTERVAL",
    help="Seconds between updates.",
)
def top(store: str | None, as_json: bool, interval: float) -> None:
    """Live overview: workers with rates per minute, runners, the latest failures. q quits (or Ctrl-C);
    --json: one snapshot per line, until Ctrl-C or SIGTERM."""
    app = open_app(store, create=False)
    with stop_signals() as stop:
        try:
            if as_json:
                _stream(app, interval, stop)
            else:
                _live(app, interval, stop)
        except BrokenPipeError:  # the reader went away (``| head``): stop, with nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# -- the snapshot ---------------------------------------------------------------------------------
def snapshot(app: App) -> dict[str, Any]:
    """What one frame shows: ``{"at", "workers", "runners", "failures"}``."""
    now = time.time()
    statuses = app.status()
    buckets = app.stats(minutes=5)
    rates = _rates(buckets, now)
    idle = {"queued": 0, "scheduled": 0, "running": 0, "dead": 0, "paused": False, "blocked": None}
    idle |= {"unknown": False, "rate": None, "rate_limited": False}
    workers = []
    for name in sorted(statuses.keys() | rates.keys()):  # and those with work done, none left
        done, failed, wait_p95, run_p95 = rates.get(name, (0.0, 0.0, None, None))
        s = statuses.get(name)
        workers.append(
            {
                **({**idle, "name": name} if s is None else asdict(s)),
                "processed_per_min": round(done, 1),
                "failed_per_min": round(failed, 1),
                "wait_p95": wait_p95,
                "run_p95": run_p95,
            }
        )
    return {
        "at": datetime.fromtimestamp(now, UTC),
        "workers": workers,
        "runners": app.runners(),
        "failures": _failures(app, buckets),
    }


def _rates(
    buckets: list[StatsBucket], now: float
) -> dict[str, tuple[float, float, float | None, float | None]]:
    """Per worker: runs and failures over the last 60 s (this minute's, and the last minute's in
    proportion to its part of those 60 s), and the p95 of wait and run time of the newest minute."""
    this = int(now // 60) * 60
    weight = {this: 1.0, this - 60: 1.0 - (now - this) / 60}
    out: dict[str, tuple[float, float, float | None, float | None]] = {}
    for b in buckets:
        if b.worker is None:
            continue
        w = weight.get(int(b.minute.timestamp()), 0.0)
        done, failed, wait_p95, run_p95 = out.get(b.worker, (0.0, 0.0, None, None))
        if b.run_p95 is not None or b.wait_p95 is not None:  # oldest first: the newest minute wins
            wait_p95, run_p95 = b.wait_p95, b.run_p95
        out[b.worker] = (done + w * b.processed, failed + w * b.failed, wait_p95, run_p95)
    return out


def _failures(app: App, buckets: list[StatsBucket]) -> list[dict[str, Any]]:
    """The latest failed runs, from the kept traces of the workers that failed most in the last minutes."""
    failing: dict[str, int] = {}
    for b in buckets:
        if b.worker is not None and (b.failed or b.dead):
            failing[b.worker] = failing.get(b.worker, 0) + b.failed + b.dead
    found: list[Trace] = []
    for worker in sorted(failing, key=lambda w: -failing[w])[:FAILED_WORKERS]:
        try:
            traces = app.traces(worker)
        except ValueError:
            continue
        found.extend(t for t in traces if t.outcome not in ("ok", "incomplete"))
    found.sort(key=lambda t: t.finished_at, reverse=True)
    return [
        {
            "worker": t.worker,
            "message_id": t.message_id,
            "outcome": t.outcome,
            "attempt": t.attempt,
            "error": t.error,
            "finished_at": t.finished_at,
        }
        for t in found[:FAILURES]
    ]


# -- output -----------------------------------------------------------------------------------------
def _stream(app: App, interval: float, stop: threading.Event) -> None:
    while True:
        click.echo(orjson.dumps(snapshot(app), option=orjson.OPT_NON_STR_KEYS).decode())
        sys.stdout.flush()
        if stop.wait(interval):
            return


def _live(app: App, interval: float, stop: threading.Event) -> None:
    out = console()
    if not sys.stdout.isatty():  # piped: a frame per update
        while True:
            out.print(_frame(app, ""))
            out.print()
            out.file.flush()
            if stop.wait(interval):
                return
    from rich.live import Live

    keys = sys.stdin.isatty()
    hint = " · q to quit" if keys else " · Ctrl-C to stop"
    with _cbreak(keys), Live(_frame(app, hint), console=out, auto_refresh=False, screen=False) as live:
        while not _wait(stop, interval, keys):
            live.update(_frame(app, hint), refresh=True)


def _wait(stop: threading.Event, interval: float, keys: bool) -> bool:
    """Wait ``interval`` seconds; True to quit (``q`` pressed, or a signal)."""
    deadline = time.monotonic() + interval
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if not keys:
            stop.wait(left)
            continue
        ready, _, _ = select.select([sys.stdin], [], [], min(left, 0.1))
        if ready:
            pressed = os.read(sys.stdin.fileno(), 64)
            if not pressed or b"q" in pressed.lower():  # q, Q, or the terminal went away
                return True
    return True


@contextmanager
def _cbreak(keys: bool) -> Iterator[None]:
    """Keys reach ``top`` one at a time, unechoed, while it runs (the terminal is restored after)."""
    if not keys:
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _frame(app: App, hint: str) -> Group:
    from rich.console import Group
    from rich.text import Text

    snap = snapshot(app)
    stamp = Text(f"{when(snap['at'])} UTC · {safe_url(app.url)}{hint}", style="dim")
    parts: list[Any] = [stamp, Text(""), _workers_table(snap["workers"])]
    runners = snap["runners"]
    parts += [Text(""), _runners_table(runners) if runners else Text("no runners", style="dim")]
    if snap["failures"]:
        parts += [Text(""), _failures_table(snap["failures"])]
    return Group(*parts)


def _workers_table(workers: list[dict[str, Any]]) -> Any:
    out = table(
        "worker",
        "state",
        "queued",
        "scheduled",
        "running",
        "dead",
        "done/min",
        "failed/min",
        "wait p95",
        "run p95",
    )
    for w in workers:
        state = (
            f"blocked: {w['blocked']}"
            if w["blocked"]
            else "paused"
            if w["paused"]
            else "unknown"
            if w["unknown"]
            else "active"
        )
        out.add_row(
            w["name"],
            state,
            str(w["queued"]),
            str(w["scheduled"]),
            str(w["running"]),
            str(w["dead"]),
            f"{w['processed_per_min']:g}",
            f"{w['failed_per_min']:g}",
            "" if w["wait_p95"] is None else seconds(w["wait_p95"]),
            "" if w["run_p95"] is None else seconds(w["run_p95"]),
        )
    _right(out, 2, 10)
    return out if workers else "no workers"


def _runners_table(runners: list[Any]) -> Any:
    out = table("runner", "host", "pid", "state", "busy", "up", "workers")
    now = datetime.now(UTC)
    _right(out, 2, 6)
    for r in runners:
        up = int((now - r.started_at).total_seconds())
        out.add_row(
            r.id,
            r.host or "",
            "" if r.pid is None else str(r.pid),
            r.state,
            f"{r.running}/{r.slots}" if r.slots is not None else str(r.running),
            f"{up // 3600}:{up // 60 % 60:02d}:{up % 60:02d}",
            ", ".join(r.workers),
        )
    return out


def _right(out: Any, start: int, stop: int) -> None:
    for column in out.columns[start:stop]:
        column.justify = "right"


def _failures_table(failures: list[dict[str, Any]]) -> Any:
    out = table("failed", "worker", "message", "attempt", "error")
    for f in failures:
        error = (f["error"] or f["outcome"]).splitlines()[0] if (f["error"] or f["outcome"]) else ""
        out.add_row(when(f["finished_at"]), f["worker"], str(f["message_id"]), str(f["attempt"]), error[:120])
    return out
