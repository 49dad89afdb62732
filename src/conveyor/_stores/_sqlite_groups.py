"""The SQLite store's groups (fan-in, migrations/0011_results.sql): ``emit_many(items, then=...)``.

A group's members carry its id (``messages.group_id``) and have a ``group_members`` row each. The
transaction that finishes a member (the runner's settle, or a cancel) deletes that row — once, so a
dead letter retried and finished again does not count twice — and counts the group down; the one that
counts it to zero emits the group's ``then`` message and deletes the group. SQLite has one writer at a
time, so two runners can never both see the last member leave.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import orjson

from ._base import NewMessage
from ._sql import Queries

__all__ = ["SQLiteGroups"]


class SQLiteGroups:
    """Group methods of ``SQLiteStore`` (a mixin: it uses the store's connection and write lock)."""

    _q: Queries
    _write: Callable[..., AbstractContextManager[sqlite3.Connection]]

    def enqueue_group(self, members: Sequence[NewMessage], then: NewMessage) -> list[int]:
        if not members or any(m.key is not None for m in members) or then.key is not None:
            raise ValueError(
                "a group has at least one message, and neither they nor its then message have keys"
            )
        q = self._q
        now = time.time()
        with self._write() as db:
            group = db.execute(
                q.group_create,
                {
                    "worker": then.worker,
                    "event": then.event,
                    "delay": then.delay,
                    "priority": then.priority,
                    "parent_id": then.parent_id,
                    "root_id": then.root_id,
                    "chain": then.chain,
                    "looped": then.looped,
                    "meta": then.meta,
                },
            ).fetchone()[0]
            ids: list[int] = []
            for m in members:
                params = (*m.row(now), group)
                ids.append(int(db.execute(q.enqueue_member, params).lastrowid))  # type: ignore[arg-type]
                if m.meta is not None:
                    db.execute(q.set_meta, (m.meta, ids[-1]))
            db.execute(q.group_seal, {"members": orjson.dumps(ids).decode(), "id": group})
            db.executemany(q.group_join, [(i, group) for i in ids])
        return ids

    def _leave_groups(self, db: sqlite3.Connection, message_ids: Sequence[int], now: float) -> list[int]:
        """Inside a transaction that finished these messages: they leave their groups; returns the ids of
        the ``then`` messages emitted for groups that are now complete."""
        q = self._q
        left: dict[int, int] = {}
        for message_id in message_ids:
            row = db.execute(q.group_leave, (message_id,)).fetchone()
            if row is not None:
                left[row[0]] = left.get(row[0], 0) + 1
        fired: list[int] = []
        for group in sorted(left):
            row = db.execute(q.group_count_down, {"k": left[group], "id": group}).fetchone()
            if row is not None and row[0] <= 0:
                emitted = db.execute(q.group_fire, {"id": group, "now": now}).fetchone()
                db.execute(q.group_delete, (group,))
                if emitted is not None:
                    fired.append(int(emitted[0]))
        return fired
