"""Capture ``logging`` records made while a handler runs into that message's trace."""

from __future__ import annotations

import logging
import threading

from .._context import current

__all__ = ["capture_logs"]

_MAX_RECORDS = 200
_lock = threading.Lock()
_users = 0


class _TraceHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        ctx = current.get()
        if ctx is not None and len(ctx.logs) < _MAX_RECORDS:
            try:
                ctx.logs.append(self.format(record))
            except Exception:  # a bad log call must not fail the handler
                self.handleError(record)


_handler = _TraceHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


class capture_logs:  # a context manager, named like contextlib's
    """While any runner is active, the root logger feeds records to the current message's trace.

    Records are captured when they pass their logger's level (the root logger's default is WARNING).
    """

    def __enter__(self) -> None:
        global _users
        with _lock:
            if _users == 0:
                logging.getLogger().addHandler(_handler)
            _users += 1

    def __exit__(self, *exc: object) -> None:
        global _users
        with _lock:
            _users -= 1
            if _users == 0:
                logging.getLogger().removeHandler(_handler)
