"""Shared fixtures. Every contract test runs once per store (see ``store_url``)."""

from __future__ import annotations

import fcntl
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import conveyor
from _shared import _PG_LOCKS, PG_LOCK, in_ci
from conveyor._stores import Store, open_store

STORES = ["sqlite-file", "sqlite-memory", "postgres"]


def _sqlite_url(kind: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'conveyor.db'}" if kind == "sqlite-file" else "sqlite:///:memory:"


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_kind == "postgres":
        return str(request.getfixturevalue("pg_url"))
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


# -- PostgreSQL: a migrated template database made once per session, cloned for each test ---------------

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    """The server tests use ($CONVEYOR_TEST_PG, else the local one): a URL to a database to connect to."""
    return os.environ.get("CONVEYOR_TEST_PG") or PG_DEFAULT


class PgServer:
    """Creates and drops databases for tests: each one a cheap copy of a migrated template."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"conveyor_t{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._numbers = itertools.count(1)

    def url(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def start(self) -> None:
        self._drop_stale()
        self.admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin(f'CREATE DATABASE "{self.template}"')
        open_store(self.url(self.template)).close()  # migrate once; every test's database starts from here

    def create(self) -> str:
        """A fresh, migrated database of its own: its URL."""
        name = f"{self.prefix}_{next(self._numbers)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url(name)

    def drop(self, url: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')

    def stop(self) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    def _drop_stale(self) -> None:
        """Databases left by test sessions that were killed (their pid is gone)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            names = [
                r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'conveyor_t%'")
            ]
        for name in names:
            pid = name.removeprefix("conveyor_t").partition("_")[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL server, or: in CI (CI=true) a failure, locally a skip, each saying why."""
    import psycopg

    admin_url = pg_admin_url()
    server = PgServer(admin_url)
    with open(PG_LOCK, "a") as lock:  # not while another session's test restarts the server
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except Exception as error:
            message = (
                f"PostgreSQL is not reachable at {admin_url} ({type(error).__name__}: {error}); "
                "start it or point CONVEYOR_TEST_PG at one (trust auth, a user that may CREATE DATABASE)"
            )
            if in_ci():
                pytest.fail(f"CI needs PostgreSQL for the PostgreSQL tests: {message}", pytrace=False)
            pytest.skip(f"PostgreSQL tests not run locally: {message}")
        server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own (dropped afterwards)."""
    with open(PG_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        url = pg_server.create()
        _PG_LOCKS[url] = lock
        try:
            yield url
        finally:
            _PG_LOCKS.pop(url, None)
            pg_server.drop(url)
