"""Hooks: ``@app.on_emit``, ``@app.on_start``, ``@app.on_finish`` (docs/hooks.md), and ``Message.meta``.

Dispatched as dramatiq's middleware: before-hooks (``on_emit``, ``on_start``) in registration order,
after-hooks (``on_finish``) in reverse order. A failing ``on_emit`` hook fails the emit (nothing is
written); a failing ``on_start`` or ``on_finish`` hook is logged and the message's outcome stands.

The emitter and the runner reach hooks through one ``Hooks`` object (``Emitter.hooks``); each checks a
tuple's truth before doing anything, so an app without hooks pays an attribute read per emit and per run.
Two private seams serve ``conveyor.otel``: ``after_emit`` (called once a write succeeded or failed, in
reverse order) and ``around`` (context managers entered around the handler, in its thread or task).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._message import Message, Trace
from ._meta import decode_meta, encode_meta

if TYPE_CHECKING:
    from ._registry import WorkerSpec
    from ._stores import NewMessage

__all__ = [
    "AfterEmit",
    "Around",
    "EmitHook",
    "FinishHook",
    "Hooks",
    "OutgoingMessage",
    "StartHook",
]

log = logging.getLogger("conveyor.hooks")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message about to be written, as ``on_emit`` hooks see it.

    ``meta`` is the one thing a hook changes: what it holds when the last hook returned is written with
    the message (str -> str, at most 4 KiB as JSON). The rest describes the emit; the event is the value
    given to ``emit`` (already checked and encoded: changing it changes nothing)."""

    worker: str
    event: Any
    meta: dict[str, str]
    """Starts empty; inside a handler, as a copy of the handled message's meta (children inherit it)."""
    key: str | None = None
    priority: int = 0
    delay: float = 0.0
    """Seconds from now to the message's ``run_at``."""
    parent_id: int | None = None
    """The handled message, when emitted from a handler (``conveyor.emit``)."""
    _scratch: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Room for private seams (``conveyor.otel`` keeps its producer span here)."""


EmitHook = Callable[[OutgoingMessage], object]
StartHook = Callable[[Message], object]
FinishHook = Callable[[Trace], object]
AfterEmit = Callable[[OutgoingMessage, "int | None", "BaseException | None"], object]
Around = Callable[[Message], AbstractContextManager[object]]


def _check_hook(kind: str, hook: object) -> None:
    if not callable(hook):
        raise TypeError(f"@app.{kind} takes a callable, not {type(hook).__name__}")
    if inspect.iscoroutinefunction(hook):
        raise TypeError(
            f"@app.{kind} takes a plain (sync) callable: hooks run inside emit and beside the handler, "
            "where nothing awaits them"
        )


class Hooks:
    """The hooks of one app (shared by its emitter and runners)."""

    def __init__(self) -> None:
        self.emit: tuple[EmitHook, ...] = ()
        self.start: tuple[StartHook, ...] = ()
        self.finish: tuple[FinishHook, ...] = ()
        """In reverse registration order (after-hooks)."""
        self.after_emit: tuple[AfterEmit, ...] = ()
        """In reverse registration order."""
        self.around: tuple[Around, ...] = ()
        self.at_emit = False
        """Whether anything runs at emit (``on_emit`` hooks, or an ``after_emit`` seam)."""
        self.installed: set[str] = set()
        """Integrations already installed on these hooks (``"otel"``): each installs once."""

    # -- registering -----------------------------------------------------------------------------
    def add_emit(self, hook: EmitHook) -> None:
        _check_hook("on_emit", hook)
        self.emit = (*self.emit, hook)
        self.at_emit = True

    def add_start(self, hook: StartHook) -> None:
        _check_hook("on_start", hook)
        self.start = (*self.start, hook)

    def add_finish(self, hook: FinishHook) -> None:
        _check_hook("on_finish", hook)
        self.finish = (hook, *self.finish)

    def add_after_emit(self, hook: AfterEmit) -> None:
        self.after_emit = (hook, *self.after_emit)
        self.at_emit = True

    def add_around(self, around: Around) -> None:
        self.around = (*self.around, around)

    @property
    def on_run_side(self) -> bool:
        """Whether handlers are wrapped (``on_start`` hooks, or ``around`` seams)."""
        return bool(self.start or self.around)

    # -- emitting --------------------------------------------------------------------------------
    def before_emit(self, message: NewMessage, event: Any) -> None:
        """Run the ``on_emit`` hooks over ``message`` and write their ``meta`` into it; raise what a
        hook raised, or ValueError for meta that cannot be written (then nothing is written)."""
        outgoing = OutgoingMessage(
            message.worker,
            event,
            decode_meta(message.meta),
            message.key,
            message.priority,
            message.delay,
            message.parent_id,
        )
        message.outgoing = outgoing
        try:
            for hook in self.emit:
                hook(outgoing)
            message.meta = encode_meta(outgoing.meta)
        except BaseException as error:
            self.emitted([message], None, error)
            raise

    def emitted(
        self, messages: list[NewMessage], ids: Sequence[int | None] | None, error: BaseException | None
    ) -> None:
        """The ``after_emit`` seams, per message: its id, or the error that stopped its write."""
        if not self.after_emit:
            return
        for index, message in enumerate(messages):
            outgoing = message.outgoing
            if outgoing is None:
                continue
            message.outgoing = None  # told once
            for after in self.after_emit:
                try:
                    after(outgoing, None if ids is None else ids[index], error)
                except Exception:
                    log.exception("an after-emit hook failed for a message to %r", outgoing.worker)

    def write(self, messages: list[NewMessage], write: Callable[[], list[int]]) -> list[int]:
        """``write()`` with the ``after_emit`` seams told how it went."""
        try:
            ids = write()
        except BaseException as error:
            self.emitted(messages, None, error)
            raise
        self.emitted(messages, ids, None)
        return ids

    # -- running ---------------------------------------------------------------------------------
    def wrapped(self, spec: WorkerSpec) -> WorkerSpec:
        """``spec`` whose handler runs the ``around`` seams and the ``on_start`` hooks first (in the
        handler's own thread or task, so what they set in context the handler sees); it always takes
        ``(event, msg)``."""
        handler, wants = spec.handler, spec.wants_message
        running = self.running
        if spec.is_async:

            async def run_async(event: Any, msg: Message) -> Any:
                with running(msg):
                    return await (handler(event, msg) if wants else handler(event))

            return replace(spec, handler=run_async, wants_message=True)

        def run(event: Any, msg: Message) -> Any:
            with running(msg):
                return handler(event, msg) if wants else handler(event)

        return replace(spec, handler=run, wants_message=True)

    @contextlib.contextmanager
    def running(self, msg: Message) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for around in self.around:
                try:
                    stack.enter_context(around(msg))
                except Exception:
                    log.exception("a hook around message %d (%s) failed to start", msg.id, msg.worker)
            for hook in self.start:
                try:
                    hook(msg)
                except Exception:
                    log.exception("an on_start hook failed for message %d (%s)", msg.id, msg.worker)
            yield

    def finished(self, trace: Trace) -> None:
        for hook in self.finish:
            try:
                hook(trace)
            except Exception:
                log.exception("an on_finish hook failed for message %d (%s)", trace.message_id, trace.worker)
