"""Exceptions and warnings users raise or catch."""

from __future__ import annotations

__all__ = ["Incomplete", "StoreNotFound", "UnknownWorkerWarning"]


class Incomplete(Exception):
    """Raise inside a handler: the worker is not finished with this message yet.

    The message goes back to the queue and runs again after the app's ``incomplete_delay``
    (default 5 minutes) without using one of its attempts.
    """


class UnknownWorkerWarning(UserWarning):
    """``app.emit`` to a worker name this app does not define: the message is held until one does."""


class StoreNotFound(LookupError):
    """Opening for reading a store that does not exist yet (no SQLite file, no PostgreSQL schema):
    reads never create a store; writes and ``run`` do."""
