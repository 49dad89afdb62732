"""The ``OPTIONS`` of a ``ConveyorBackend`` in Django's ``TASKS`` setting, checked once, at the backend's
creation: a bad option is one ``ImproperlyConfigured`` naming it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.core.exceptions import ImproperlyConfigured

__all__ = ["DEFAULT_WORKER_OPTIONS", "BackendOptions", "parse_options", "worker_name"]

DEFAULT_WORKER_OPTIONS: dict[str, Any] = {"max_attempts": 1, "results": 86_400}
"""What every queue's worker gets unless ``WORKER_OPTIONS`` says otherwise: a task that raises is
FAILED at once, as with Django's own backends, and each result is kept for a day."""
_KNOWN = frozenset({"STORE", "DATABASE", "SCHEMA", "WORKERS", "WORKER_OPTIONS"})
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,49}")


@dataclass(frozen=True, slots=True)
class BackendOptions:
    store: str | None
    """A Conveyor store URL (None: ``$CONVEYOR_STORE``, else ``sqlite:///conveyor.db``)."""
    database: str | None
    """A Django database alias (PostgreSQL) that Conveyor shares: emits join Django's transactions."""
    workers: dict[str, str]
    """Django queue name -> Conveyor worker name, for every queue of the backend."""
    worker_options: dict[str, Any]
    """Keyword arguments of ``app.worker`` for every queue's worker."""


def worker_name(queue: str) -> str:
    """The default Conveyor worker of a Django queue: ``django.<queue>``."""
    return f"django.{queue}"


def parse_options(alias: str, queues: set[str], options: Mapping[str, Any]) -> BackendOptions:
    where = f"TASKS[{alias!r}]"
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise ImproperlyConfigured(
            f"{where}['OPTIONS']: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}"
        )
    if not queues:
        raise ImproperlyConfigured(
            f"{where}['QUEUES'] is empty: name the queues, each becomes a Conveyor worker that runners claim"
        )
    store, database = options.get("STORE"), options.get("DATABASE")
    if store is not None and database is not None:
        raise ImproperlyConfigured(f"{where}['OPTIONS']: give STORE or DATABASE, not both")
    if store is not None and (not isinstance(store, str) or not store.strip()):
        raise ImproperlyConfigured(f"{where}['OPTIONS']['STORE'] must be a store URL, not {store!r}")
    if database is not None and not isinstance(database, str):
        raise ImproperlyConfigured(
            f"{where}['OPTIONS']['DATABASE'] must be a database alias, not {database!r}"
        )
    schema = options.get("SCHEMA", "conveyor")
    if not isinstance(schema, str) or not _SCHEMA.fullmatch(schema):
        raise ImproperlyConfigured(f"{where}['OPTIONS']['SCHEMA'] must be a schema name, not {schema!r}")
    if "SCHEMA" in options and database is None:
        raise ImproperlyConfigured(
            f"{where}['OPTIONS']['SCHEMA'] goes with DATABASE (a STORE URL has ?schema=)"
        )
    mapping = options.get("WORKERS", {})
    if not isinstance(mapping, Mapping) or not all(isinstance(v, str) for v in mapping.values()):
        raise ImproperlyConfigured(f"{where}['OPTIONS']['WORKERS'] must map queue names to worker names")
    extra = sorted(set(mapping) - queues)
    if extra:
        raise ImproperlyConfigured(f"{where}['OPTIONS']['WORKERS'] names queues not in QUEUES: {extra}")
    workers = {queue: str(mapping.get(queue, worker_name(queue))) for queue in sorted(queues)}
    if len(set(workers.values())) != len(workers):
        raise ImproperlyConfigured(f"{where}['OPTIONS']['WORKERS']: two queues map to one worker")
    given = options.get("WORKER_OPTIONS", {})
    if not isinstance(given, Mapping):
        raise ImproperlyConfigured(
            f"{where}['OPTIONS']['WORKER_OPTIONS'] must be a dict of app.worker options"
        )
    if database is not None:
        store = _database_url(alias, database, schema)
    return BackendOptions(store, database, workers, {**DEFAULT_WORKER_OPTIONS, **given})


def _database_url(alias: str, database: str, schema: str) -> str:
    """The store URL of a Django PostgreSQL database, Conveyor's tables in ``schema``."""
    from django.db import connections

    if database not in connections:
        raise ImproperlyConfigured(f"TASKS[{alias!r}]['OPTIONS']['DATABASE']: no database {database!r}")
    connection = connections[database]
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured(
            f"TASKS[{alias!r}]['OPTIONS']['DATABASE']: {database!r} is {connection.vendor}; Conveyor "
            "shares PostgreSQL databases only (for SQLite, give STORE='sqlite:///…')"
        )
    s = connection.settings_dict
    user = quote(str(s.get("USER") or ""), safe="")
    password = quote(str(s.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(s.get("HOST") or "")
    host = f"[{host}]" if ":" in host else quote(host, safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    query = {"schema": schema}
    return f"postgresql://{auth}{host}{port}/{quote(str(s['NAME']), safe='')}?{urlencode(query)}"
