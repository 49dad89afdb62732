"""Named SQL queries, one per ``.sql`` file in ``sql/<dialect>/``, and numbered migrations."""

from __future__ import annotations

from importlib import resources

__all__ = ["Queries", "migrations"]


class Queries:
    """The named queries of one dialect, read once: ``q.claim`` is the text of ``claim.sql``."""

    def __init__(self, dialect: str) -> None:
        folder = resources.files(__package__).joinpath("sql", dialect)
        self._text: dict[str, str] = {
            entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        }

    def __getattr__(self, name: str) -> str:
        try:
            return self._text[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r}") from None

    def names(self) -> set[str]:
        return set(self._text)


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) for each ``sql/<dialect>/migrations/NNNN_name.sql``, in order."""
    folder = resources.files(__package__).joinpath("sql", dialect, "migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(number), name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found
