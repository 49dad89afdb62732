"""Priorities (docs/flow-control.md): what an emit may give as ``priority``, and ``emit_many``'s options."""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_PRIORITY", "MIN_PRIORITY", "ManyOptions", "check_priority", "many_item"]

MIN_PRIORITY = -100
MAX_PRIORITY = 100
_OPTIONS = frozenset({"delay", "key", "priority"})

ManyOptions = dict[str, Any]
"""An ``emit_many`` item's options: any of ``delay``, ``key`` and ``priority``, as ``emit`` takes them."""


def check_priority(value: object) -> int:
    """``value`` as a priority (an int from -100 to 100, not a bool), or a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PRIORITY <= value <= MAX_PRIORITY:
        shown = f"{value!r:.40}" if not isinstance(value, int) or value.bit_length() < 128 else "a huge int"
        raise ValueError(f"priority must be an int from {MIN_PRIORITY} to {MAX_PRIORITY}, not {shown}")
    return value


def many_item(index: int, item: object) -> tuple[Any, str, ManyOptions]:
    """One ``emit_many`` item, ``(event, worker)`` or ``(event, worker, {"delay":…, "key":…,
    "priority":…})``, as (event, worker, options); a TypeError or ValueError naming the item."""
    if not isinstance(item, tuple) or len(item) not in {2, 3}:
        raise TypeError(
            f"emit_many item {index}: expected an (event, worker) or (event, worker, options) tuple, "
            f"not {item!r:.80}"
        )
    if len(item) == 2:
        return item[0], item[1], {}
    options = item[2]
    if not isinstance(options, dict):
        raise TypeError(f"emit_many item {index}: options must be a dict, not {type(options).__name__}")
    unknown = sorted(str(name) for name in options if name not in _OPTIONS)
    if unknown:
        raise ValueError(
            f"emit_many item {index}: unknown option {', '.join(map(repr, unknown))} "
            "(options are delay, key and priority)"
        )
    return item[0], item[1], dict(options)
