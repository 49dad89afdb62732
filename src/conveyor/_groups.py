"""Groups (fan-in, docs/results.md): ``app.emit_many(items, then=(event, worker))``.

The items are emitted as one group in one transaction; once every one of them has finished (done, a
dead letter, or cancelled: by ``Cancel`` in its handler, by ``app.cancel`` or ``app.purge`` while
queued), the ``then`` message is emitted exactly once, in the transaction that finished the last one,
and its ``Message.group`` is the list of the group's ids. The stores keep the count (``_sqlite_groups.py``,
``_pg_groups.py``); runners, and their crashes, cannot lose or double it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._context import HandlerContext
from ._emitter import Emitter

__all__ = ["emit_group"]

_THEN_OPTIONS = frozenset({"delay", "priority"})


def emit_group(
    emitter: Emitter, items: Iterable[tuple[Any, ...]], then: object, parent: HandlerContext | None = None
) -> list[int]:
    """Emit ``items`` as a group whose ``then`` message follows them all; return the items' ids."""
    event, worker, options = _then(then)
    members = emitter.prepare_many(items, parent)
    hooks = emitter.hooks
    try:
        if not members:
            raise ValueError(
                "emit_many(..., then=...) needs at least one item: an empty group never finishes"
            )
        keyed = [index for index, m in enumerate(members) if m.key is not None]
        if keyed:
            raise ValueError(
                f"emit_many(..., then=...): item {keyed[0]} has a key; the messages of a group cannot have "
                "keys (a key could make an item an existing message that is in no group)"
            )
        follow = emitter.prepare(event, worker, parent=parent, **options)
    except BaseException as error:
        hooks.emitted(members, None, error)
        raise
    try:
        ids = emitter.store.enqueue_group(members, follow)
    except BaseException as error:
        hooks.emitted([*members, follow], None, error)
        raise
    hooks.emitted([*members, follow], [*ids, None], None)  # the then message has no id until it fires
    emitter.after_children(parent, members, ids)
    return ids


def _then(then: object) -> tuple[Any, str, dict[str, Any]]:
    if not isinstance(then, tuple) or len(then) not in {2, 3}:
        raise TypeError(
            f"then must be an (event, worker) or (event, worker, options) tuple, not {then!r:.80}"
        )
    if len(then) == 2:
        return then[0], then[1], {}
    options = then[2]
    if not isinstance(options, dict):
        raise TypeError(f"then: options must be a dict, not {type(options).__name__}")
    unknown = sorted(str(name) for name in options if name not in _THEN_OPTIONS)
    if unknown:
        raise ValueError(
            f"then: unknown option {', '.join(map(repr, unknown))} (options are delay and priority)"
        )
    return then[0], then[1], dict(options)
