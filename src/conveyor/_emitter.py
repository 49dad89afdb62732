"""Emitting: validate, encode, enqueue; inside a handler also parent/root and loop protection."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ._codec import encode_event, storable_text
from ._context import HandlerContext
from ._errors import UnknownWorkerWarning
from ._hooks import Hooks
from ._priority import MAX_PRIORITY, MIN_PRIORITY, check_priority, many_item
from ._registry import Registry, check_worker_name
from ._stores import NewMessage, Store
from ._typed import encode_instance

__all__ = ["DEFAULT_LOOP_LIMIT", "MAX_DELAY", "Emitter", "check_delay"]

DEFAULT_LOOP_LIMIT = 1000
MAX_DELAY = 315_576_000.0
"""The furthest ahead a message may be scheduled: 10 years (of 365.25 days), in seconds."""


class Emitter:
    def __init__(
        self, registry: Registry, store: Store, max_event_bytes: int, hooks: Hooks | None = None
    ) -> None:
        self.registry = registry
        self.store = store
        self.max_event_bytes = max_event_bytes
        self.hooks = Hooks() if hooks is None else hooks
        """The app's hooks (``_hooks.py``): run at emit, and handed to runners."""

    def emit(
        self,
        event: Any,
        worker: str,
        *,
        delay: float | None = None,
        at: datetime | None = None,
        key: str | None = None,
        conn: Any = None,
        parent: HandlerContext | None = None,
        priority: int = 0,
    ) -> int:
        message = self.prepare(event, worker, delay=delay, at=at, key=key, parent=parent, priority=priority)
        if self.hooks.after_emit:
            (message_id,) = self.hooks.write([message], lambda: self.store.enqueue([message], conn))
        else:
            (message_id,) = self.store.enqueue([message], conn)
        if parent is not None:
            self._after_child(parent, message, message_id)
        return message_id

    def emit_many(self, items: Iterable[tuple[Any, ...]], parent: HandlerContext | None = None) -> list[int]:
        messages = self.prepare_many(items, parent)
        if not messages:
            return []
        if self.hooks.after_emit:
            ids = self.hooks.write(messages, lambda: self.store.enqueue(messages))
        else:
            ids = self.store.enqueue(messages)
        self.after_children(parent, messages, ids)
        return ids

    def prepare_many(
        self, items: Iterable[tuple[Any, ...]], parent: HandlerContext | None
    ) -> list[NewMessage]:
        messages: list[NewMessage] = []
        try:
            for index, item in enumerate(items):
                if item.__class__ is tuple and len(item) == 2:
                    messages.append(self.prepare(item[0], item[1], parent=parent))
                else:
                    event, worker, options = many_item(index, item)
                    messages.append(self.prepare(event, worker, parent=parent, **options))
        except BaseException as error:
            self.hooks.emitted(messages, None, error)  # those prepared before: nothing is written
            raise
        return messages

    def after_children(
        self, parent: HandlerContext | None, messages: list[NewMessage], ids: list[int]
    ) -> None:
        if parent is not None:
            for message, message_id in zip(messages, ids, strict=True):
                self._after_child(parent, message, message_id)

    def prepare(
        self,
        event: Any,
        worker: str,
        *,
        delay: float | None = None,
        at: datetime | None = None,
        key: str | None = None,
        parent: HandlerContext | None = None,
        priority: int = 0,
    ) -> NewMessage:
        """Check everything about one emit before anything is written; raise on bad input."""
        check_worker_name(worker)
        seconds = _delay(delay, at)
        if priority.__class__ is not int or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            priority = check_priority(priority)
        if key is not None and (
            not isinstance(key, str) or not 0 < len(key) <= 1000 or not storable_text(key)
        ):
            raise ValueError(
                "key must be a non-empty str of at most 1000 characters without NUL or lone surrogates, "
                f"not {key!r:.80}"
            )
        spec = self.registry.get(worker)
        if spec is not None and spec.event_type is not None:
            data = spec.event_type.encode(event, self.max_event_bytes)
        else:
            try:
                data = encode_event(event, self.max_event_bytes)
            except TypeError as refused:  # perhaps a dataclass or a pydantic model: its JSON value
                data = encode_instance(event, self.max_event_bytes, refused)
        if spec is None:
            warnings.warn(
                f"no worker named {worker!r} is defined in this app; the message is held until an app "
                "that defines it runs",
                UnknownWorkerWarning,
                stacklevel=4,
            )
        if parent is None:
            message = NewMessage(worker, data, seconds, key, priority=priority)
        else:
            names = parent.chain.split("\n") if parent.chain else []
            if parent.worker not in names:
                names.append(parent.worker)
            message = NewMessage(
                worker,
                data,
                seconds,
                key,
                parent_id=parent.message_id,
                root_id=parent.root_id if parent.root_id is not None else parent.message_id,
                chain="\n".join(names),
                looped=worker in names,
                priority=priority,
                meta=parent.meta,  # children inherit their parent's meta; on_emit hooks may change it
            )
        if self.hooks.at_emit:
            self.hooks.before_emit(message, event)
        return message

    def _after_child(self, parent: HandlerContext, message: NewMessage, message_id: int) -> None:
        parent.emitted.append(message_id)
        if not message.looped or message.root_id is None:
            return
        spec = self.registry.get(message.worker)
        limit = spec.loop_limit if spec is not None else DEFAULT_LOOP_LIMIT
        if limit is None:
            return
        outstanding = self.store.loop_count(message.root_id, message.worker, limit + 1)
        if outstanding > limit:
            self.store.set_blocked(
                message.worker,
                f"loop protection: more than {limit} messages emitted back into {message.worker!r} "
                f"are outstanding under root message {message.root_id} (loop_limit={limit}); "
                "its messages are held until it is unblocked",
            )


def _delay(delay: float | None, at: datetime | None) -> float:
    if delay is not None and at is not None:
        raise ValueError("give delay= or at=, not both")
    if at is not None:
        if not isinstance(at, datetime):
            raise TypeError(f"at must be a datetime, not {type(at).__name__}")
        if at.tzinfo is None:
            raise ValueError("at must be a timezone-aware datetime (for example datetime.now(UTC))")
        seconds = at.timestamp() - time.time()
        if seconds > MAX_DELAY:
            raise ValueError(f"at must be at most 10 years from now ({MAX_DELAY:,.0f} seconds), not {at}")
        return max(0.0, seconds)
    if delay is None:
        return 0.0
    return check_delay(delay, "delay")


def check_delay(value: object, what: str) -> float:
    """``value`` as seconds from 0 to ``MAX_DELAY``, or a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_DELAY:
        shown = f"{value!r:.40}" if not isinstance(value, int) or value.bit_length() < 128 else "a huge int"
        raise ValueError(f"{what} must be seconds from 0 to {MAX_DELAY:,.0f} (10 years), not {shown}")
    return float(value)
