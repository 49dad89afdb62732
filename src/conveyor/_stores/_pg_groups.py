"""The PostgreSQL store's groups (fan-in, migrations/0009_results.sql): ``emit_many(items, then=...)``.

A group's members carry its id (``messages.group_id``) and have a ``group_members`` row each. The
transaction that finishes members (a runner's settle, or a cancel) deletes their rows — once, so a dead
letter retried and finished again does not count twice — and counts their groups down, one group at a
time in id order (``UPDATE … RETURNING``: runners finishing the last members of one group at once wait
for each other's row lock, and exactly one of them sees zero). The one that counts a group to zero emits
its ``then`` message and deletes it, in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg

from ._base import NewMessage
from ._pg_lane import Conn
from ._pg_url import _Queries

__all__ = ["PostgresGroups"]


class PostgresGroups:
    """Group methods of ``PostgresStore`` (a mixin: it uses the store's pool)."""

    _q: _Queries
    _conn: Callable[[], contextlib.AbstractContextManager[Conn]]

    def enqueue_group(self, members: Sequence[NewMessage], then: NewMessage) -> list[int]:
        if not members or any(m.key is not None for m in members) or then.key is not None:
            raise ValueError(
                "a group has at least one message, and neither they nor its then message have keys"
            )
        q = self._q
        with self._conn() as conn, conn.transaction():
            row = conn.execute(
                q.group_create,
                {
                    "worker": then.worker,
                    "event": then.event.decode(),
                    "delay": float(then.delay),
                    "priority": then.priority,
                    "parent_id": then.parent_id,
                    "root_id": then.root_id,
                    "chain": then.chain,
                    "looped": then.looped,
                    "meta": then.meta,
                },
            ).fetchone()
            assert row is not None
            group = int(row[0])
            rows = conn.execute(
                q.enqueue_members,
                {
                    "group": group,
                    "workers": [m.worker for m in members],
                    "events": [m.event.decode() for m in members],
                    "delays": [float(m.delay) for m in members],
                    "parents": [m.parent_id for m in members],
                    "roots": [m.root_id for m in members],
                    "chains": [m.chain for m in members],
                    "looped": [m.looped for m in members],
                    "priorities": [m.priority for m in members],
                    "metas": [m.meta for m in members],
                },
            ).fetchall()
            ids = sorted(int(r[0]) for r in rows)
            conn.execute(q.group_seal, {"ids": ids, "members": orjson.dumps(ids).decode(), "id": group})
        return ids

    def _leave_groups(self, cur: psycopg.Cursor[Any], message_ids: Sequence[int]) -> list[int]:
        """Inside a transaction that finished these messages: they leave their groups; returns the ids of
        the ``then`` messages emitted for groups that are now complete."""
        q = self._q
        left: dict[int, int] = {}
        for (group,) in cur.execute(q.group_leave, {"ids": list(message_ids)}).fetchall():
            left[group] = left.get(group, 0) + 1
        done: list[int] = []
        for group in sorted(left):
            row = cur.execute(q.group_count_down, {"k": left[group], "id": group}).fetchone()
            if row is not None and row[0] <= 0:
                done.append(group)
        if not done:
            return []
        return [int(r[0]) for r in cur.execute(q.group_fire, {"ids": done}).fetchall()]
