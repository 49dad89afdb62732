"""Exceptions and warnings users raise or catch."""

from __future__ import annotations

__all__ = ["StoreNotFound", "UnknownWorkerWarning"]
# Incomplete, Retry and Cancel, raised by handlers, are in _control.py.


class UnknownWorkerWarning(UserWarning):
    """``app.emit`` to a worker name this app does not define: the message is held until one does."""


class StoreNotFound(LookupError):
    """Opening for reading a store that does not exist yet (no SQLite file, no PostgreSQL schema):
    reads never create a store; writes and ``run`` do."""
