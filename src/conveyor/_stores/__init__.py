"""Stores: where messages, rules and traces live. ``open_store`` picks one by URL."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from .._errors import StoreNotFound
from ._base import (
    Claimed,
    NewMessage,
    RateState,
    ResultRecord,
    ResultRow,
    Settlement,
    Store,
    StoreCounts,
    TraceRecord,
)

__all__ = [
    "DEFAULT_STORE",
    "Claimed",
    "NewMessage",
    "RateState",
    "ResultRecord",
    "ResultRow",
    "Settlement",
    "Store",
    "StoreCounts",
    "StoreNotFound",
    "TraceRecord",
    "open_store",
    "resolve_url",
]

DEFAULT_STORE = "sqlite:///conveyor.db"


def resolve_url(url: str | None) -> str:
    """The store URL to use: the given one, else $CONVEYOR_STORE, else ``sqlite:///conveyor.db``."""
    return url or os.environ.get("CONVEYOR_STORE") or DEFAULT_STORE


def open_store(url: str, *, create: bool = True) -> Store:
    """Open the store a URL names: ``sqlite:///relative.db``, ``sqlite:////abs.db``,
    ``sqlite:///:memory:``, or ``postgresql://…``. ``create=False``: raise ``StoreNotFound`` rather
    than create the SQLite file (and its folders) or the PostgreSQL schema."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        path = unquote(urlsplit(url).path)
        path = path[1:] if path.startswith("/") else path  # sqlite:///x.db -> x.db; sqlite:////x.db -> /x.db
        if not path:
            raise ValueError(f"store URL {url!r} names no file; use sqlite:///path/to/file.db")
        from ._sqlite import SQLiteStore

        if not create and path != ":memory:" and not os.path.exists(path):
            raise StoreNotFound(f"store {url} does not exist (no file {path})")
        return SQLiteStore(path, url=url, create=create)
    if scheme in ("postgresql", "postgres"):
        try:
            from ._postgres import PostgresStore
        except ImportError as error:
            raise RuntimeError(
                f"the PostgreSQL store needs psycopg 3: pip install 'conveyor[postgres]' ({error})"
            ) from error
        return PostgresStore(url, create=create)
    raise ValueError(f"unknown store URL {url!r}: use sqlite:///path.db or postgresql://user@host/db")
