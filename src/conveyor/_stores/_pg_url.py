"""PostgreSQL store URLs (Conveyor's own parameters taken out) and the queries of one schema."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._sql import Queries

__all__ = ["DEFAULT_SCHEMA", "budget_of", "parse_url"]

DEFAULT_SCHEMA = "conveyor"
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,49}")
_CONVEYOR_PARAMS = ("schema", "pool_size", "max_connections")


def parse_url(url: str) -> tuple[str, str, int]:
    """(libpq conninfo URL, schema, pool size) from a store URL; Conveyor's own query parameters
    (``schema``, ``pool_size``) are taken out, every other one goes to libpq as is."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {_redact(url)!r}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in params if k in _CONVEYOR_PARAMS}
    rest = [(k, v) for k, v in params if k not in _CONVEYOR_PARAMS]
    schema = own.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(
            f"schema must be 1-50 letters, digits or _ (not starting with a digit), not {schema!r}"
        )
    size_text = own.get("pool_size", "10")
    if not size_text.isdigit() or not 1 <= int(size_text) <= 1000:
        raise ValueError(f"pool_size must be an int from 1 to 1000, not {size_text!r}")
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return conninfo, schema, int(size_text)


def budget_of(url: str) -> int | None:
    """The ``max_connections`` parameter of a store URL (None: not given): the most connections the
    store of one process opens (``_budget.sizes``)."""
    found = [v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k == "max_connections"]
    if not found:
        return None
    text = found[-1]
    if not text.isdigit() or not 2 <= int(text) <= 10_000:
        raise ValueError(f"max_connections must be an int from 2 to 10000, not {text!r}")
    return int(text)


def _redact(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _Queries:
    """The named queries of sql/postgres with the schema and NOTIFY channel filled in."""

    def __init__(self, schema: str) -> None:
        base = Queries("postgres")
        self.schema = schema
        self.channel = f"conveyor.{schema}"
        self._text = {name: self.fill(getattr(base, name)) for name in base.names()}

    def fill(self, sql: str) -> str:
        return sql.replace("{schema}", f'"{self.schema}"').replace("{channel}", self.channel)

    def __getattr__(self, name: str) -> str:
        try:
            return self._text[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r}") from None
