"""Browsing one worker's messages a page at a time (keyset, never OFFSET) and searching them by key or
event text, for the dashboard: what both stores share around their ``browse_*.sql`` queries.

A page starts after a cursor ``(run_at, id)`` (dead letters: after ``id``) and reads at most ``scan``
rows of the worker's index from there: ``limit + 1`` without a search, more with one (a search looks at
that many messages per page, whatever their number, so it costs the same at 1,000,000 queued).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._message import Message, State

__all__ = ["BROWSABLE", "Browsed", "browse_params", "ordered", "page_of"]

BROWSABLE = ("queued", "scheduled", "running", "dead")
_LAST_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Browsed:
    """A page of messages, where the next one starts (None: this is the last) and how many messages
    the page looked at."""

    messages: list[Message]
    next: tuple[float, int] | None
    scanned: int


def browse_params(
    worker: str, state: State, after: tuple[float, int] | None, *, text: str | None, scan: int, now: float
) -> tuple[str, dict[str, Any]]:
    """The query (``browse_<state>``) and its parameters."""
    if state not in BROWSABLE:
        raise ValueError(f"state must be one of {', '.join(BROWSABLE)}, not {state!r}")
    run_at, message_id = after if after is not None else (-math.inf, 0)
    hi = math.inf
    if state == "queued":
        hi = now
    elif state == "scheduled" and (run_at, message_id) < (now, _LAST_ID):
        run_at, message_id = now, _LAST_ID
    query = "browse_queued" if state in ("queued", "scheduled") else f"browse_{state}"
    params = {"worker": worker, "run_at": run_at, "id": message_id, "hi": hi, "text": text, "scan": scan}
    return query, params


def page_of(
    rows: Sequence[Sequence[Any]], limit: int, scan: int
) -> tuple[list[int], tuple[float, int] | None]:
    """The ids of a page's hits, in order, and the next page's cursor, from ``(id, run_at, hit)`` rows."""
    spots = [(float(run_at), int(i)) for i, run_at, _ in rows]
    hits = [spot for spot, (_, _, hit) in zip(spots, rows, strict=True) if hit][:limit]
    following: tuple[float, int] | None = None
    if hits and len(hits) == limit and (hits[-1] != spots[-1] or len(rows) == scan):
        following = hits[-1]
    elif len(rows) == scan:
        following = spots[-1]
    return [i for _, i in hits], following


def ordered(found: list[Message], ids: list[int]) -> list[Message]:
    by_id = {m.id: m for m in found}
    return [by_id[i] for i in ids if i in by_id]
