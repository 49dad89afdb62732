"""Shared fixtures. Every contract test runs once per store (see ``store_url``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import conveyor
from conveyor._stores import Store, open_store

STORES = ["sqlite-file", "sqlite-memory"]


def _sqlite_url(kind: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'conveyor.db'}" if kind == "sqlite-file" else "sqlite:///:memory:"


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path) -> str:
    return _sqlite_url(store_kind, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


AppFactory = Callable[..., conveyor.App]


@pytest.fixture
def make_app(store: Store) -> AppFactory:
    """Apps sharing one store (each test's own): ``make_app(lease=5)``."""

    def make(**options: object) -> conveyor.App:
        return conveyor.App(store, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def app(make_app: AppFactory) -> conveyor.App:
    return make_app()


@pytest.fixture(autouse=True)
def _no_env_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVEYOR_STORE", raising=False)
    monkeypatch.delenv("CONVEYOR_TOKEN", raising=False)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
