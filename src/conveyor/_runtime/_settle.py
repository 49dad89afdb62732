"""Text every store can hold, and settles that go on when the store refuses one message's data.

The runner writes text that user code made (an exception's message, a traceback, log lines, a result's
repr): ``storable`` turns what a store cannot hold into a visible escape. A settle is one transaction for
many messages; when the store still refuses it because of data (not because it is unreachable),
``settle_apart`` settles each message on its own, so that one message never holds back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from .._stores import Settlement, TraceRecord

__all__ = ["SETTLED", "is_data_error", "one_line", "safe_repr", "settle_apart", "storable", "text_of"]

log = logging.getLogger("conveyor.runner")

SETTLED = ("complete", "retry", "incomplete", "bury", "release", "traces", "results", "grouped", "stats")
"""``Settlement``'s lists."""

_DATA_ERRORS = frozenset({"DataError", "IntegrityError"})
"""DB-API 2.0 names for errors due to the data processed (sqlite3 and psycopg both use them)."""
_DATA_SQLSTATES = ("22", "23", "54")
"""PostgreSQL classes: data exception, integrity constraint violation, program limit exceeded."""


def storable(text: str) -> str:
    """``text`` as every store can hold it: NUL becomes the four characters ``\\x00`` and an unpaired
    surrogate ``\\udXXX``, as ``repr()`` shows them; anything else is kept."""
    if text.isascii():
        return text.replace("\x00", "\\x00") if "\x00" in text else text
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode()
    return text


def text_of(value: object) -> str:
    """``str(value)`` of something user code made, or what went wrong when that raised."""
    try:
        return str(value)
    except BaseException as error:  # user code: anything may come out of __str__
        return f"<str() raised {_name_and_text(error)}>"


def safe_repr(value: object) -> str:
    """``repr(value)``, or what went wrong when that raised."""
    try:
        return repr(value)
    except BaseException as error:
        return f"<a {type(value).__name__} whose repr() raised {_name_and_text(error)}>"


def _name_and_text(error: BaseException) -> str:
    try:
        why = str(error)
    except BaseException:
        why = ""
    return f"{type(error).__name__}: {why}" if why else type(error).__name__


def one_line(text: str) -> str:
    """``text`` on one line (for logs): its lines joined with `` | ``."""
    return " | ".join(line for line in text.splitlines() if line.strip()) if "\n" in text else text


def is_data_error(error: BaseException) -> bool:
    """Whether the store refused what it was given (rather than being unreachable or busy)."""
    if isinstance(error, ValueError | TypeError | OverflowError):  # UnicodeEncodeError is a ValueError
        return True
    if any(cls.__name__ in _DATA_ERRORS for cls in type(error).__mro__):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_DATA_SQLSTATES)


def settle_apart(settle: Callable[[Settlement], None], batch: Settlement, refused: BaseException) -> None:
    """A batch the store refused because of data: settle it message by message. A message whose own
    settle is refused again gets that refusal as its error (a dead letter when it was to be buried, a
    retry when it was to be retried; one that finished stays finished), and its trace is reduced to that
    error.

    Raises what is not a data error (the store went away): the messages not yet settled are then left in
    ``batch``, for the caller to keep for its next turn."""
    pieces = _split(batch)
    while pieces:
        piece = pieces[0]
        try:
            _settle_piece(settle, piece)
        except BaseException:
            _refill(batch, pieces)
            raise
        pieces.pop(0)
    log.warning("the store refused a settle (%s); its messages were settled one by one", _why(refused))


def _settle_piece(settle: Callable[[Settlement], None], piece: Settlement) -> None:
    try:
        settle(piece)
        return
    except Exception as error:
        if not is_data_error(error):
            raise
        first = error
    ids = _ids(piece)
    log.error("the store refused the settle of message(s) %s: %s", ids, _why(first))
    note = f"StoreRefused: the store refused this message's trace ({_why(first)}); its details were dropped"
    try:
        settle(_reduced(piece, storable(note)))
        return
    except Exception as error:
        if not is_data_error(error):
            raise
    try:  # only ASCII text the runner chose is left
        settle(_reduced(piece, "StoreRefused: the store refused this message's trace", traces=False))
    except Exception as error:
        if not is_data_error(error):
            raise
        log.error(
            "the store refused even a reduced settle of message(s) %s (%s); their leases will "
            "expire and they will be run again",
            ids,
            _why(error),
        )


def _why(error: BaseException) -> str:
    return storable(one_line(f"{type(error).__name__}: {error}"))


def _ids(piece: Settlement) -> list[int]:
    ids = list(piece.complete) + [i for i, *_ in piece.retry] + [i for i, _ in piece.incomplete]
    ids += [i for i, *_ in piece.bury] + list(piece.release)
    return ids or sorted({t.message_id for t in piece.traces})


def _split(batch: Settlement) -> list[Settlement]:
    """One settlement per message: its transition and its traces (and one per trace of a message
    settled in an earlier batch)."""
    by_id: dict[int, Settlement] = {}

    def of(message_id: int) -> Settlement:
        piece = by_id.get(message_id)
        if piece is None:
            piece = by_id[message_id] = Settlement()
        return piece

    for i in batch.complete:
        of(i).complete.append(i)
    for r in batch.retry:
        of(r[0]).retry.append(r)
    for n in batch.incomplete:
        of(n[0]).incomplete.append(n)
    for b in batch.bury:
        of(b[0]).bury.append(b)
    for i in batch.release:
        of(i).release.append(i)
    for t in batch.traces:
        of(t.message_id).traces.append(t)
    for kept in batch.results:
        of(kept.message_id).results.append(kept)
    for i in batch.grouped:
        of(i).grouped.append(i)
    pieces = list(by_id.values())
    if batch.stats:  # the runner's own numbers: a piece of their own
        pieces.append(Settlement(stats=list(batch.stats)))
    return pieces


def _refill(batch: Settlement, pieces: list[Settlement]) -> None:
    """Leave in ``batch`` only what ``pieces`` still holds."""
    for name in SETTLED:
        items = getattr(batch, name)
        items.clear()
        for piece in pieces:
            items.extend(getattr(piece, name))


def _reduced(piece: Settlement, note: str, traces: bool = True) -> Settlement:
    """The same transitions with ``note`` as their error, and traces that say so: no user text left.
    (A message that finished stays finished, as it would had its ack gone out before its trace; a kept
    result then says the store refused it, as a failure with ``note``.)"""
    out = Settlement(
        complete=list(piece.complete),
        incomplete=list(piece.incomplete),
        release=list(piece.release),
        grouped=list(piece.grouped),
    )
    out.retry = [(i, delay, note) for i, delay, _ in piece.retry]
    out.bury = [(i, attempt, note) for i, attempt, _ in piece.bury]
    if traces:
        out.traces = [_reduced_trace(t, note) for t in piece.traces]
    out.results = [replace(r, outcome="dead", value=None, is_repr=False, error=note) for r in piece.results]
    return out


def _reduced_trace(t: TraceRecord, note: str) -> TraceRecord:
    return replace(t, outcome="error", result=None, error=note, traceback=None, logs=[], emitted=[])
