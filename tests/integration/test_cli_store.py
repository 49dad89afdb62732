"""Which commands may create a store: reads never do, writes and ``run`` do; bad files leave nothing."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

import conveyor
from conveyor._cli import main

READS = [["status"], ["messages"], ["traces", "w"], ["dead"], ["unknown"], ["status", "--json"]]


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("read", READS, ids=" ".join)
def test_a_read_on_a_missing_sqlite_store_says_so_and_creates_nothing(
    tmp_path: Path, read: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo' / 'dir' / 'x.db'}"
    result = cli(*read, "--store", url)
    assert result.exit_code == 1, result.output
    line = one_line(result)
    assert "does not exist" in line and "x.db" in line
    assert list(tmp_path.iterdir()) == []


def test_a_read_on_a_missing_file_in_an_existing_folder_creates_no_file(tmp_path: Path) -> None:
    result = cli("status", "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 1 and "does not exist" in one_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_write_creates_the_store_then_reads_see_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'x.db'}"
    assert cli("pause", "w", "--store", url).exit_code == 0
    result = cli("status", "--store", url, "--json")
    assert result.exit_code == 0, result.output
    assert '"paused": true' in result.stdout


def test_a_read_on_a_missing_postgres_schema_says_so_and_creates_nothing(pg_url: str) -> None:
    url = f"{pg_url}{'&' if '?' in pg_url else '?'}schema=typo_schema"
    result = cli("status", "--store", url)
    assert result.exit_code == 1, result.output
    assert "does not exist" in one_line(result)
    with psycopg.connect(pg_url) as conn:
        found = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'typo_schema'").fetchone()
    assert found == (0,)
    assert cli("emit", "w", "1", "--store", url).exit_code == 0  # a write creates it
    assert cli("status", "--store", url).exit_code == 0


@pytest.mark.parametrize("command", [["status"], ["emit", "w", "1"]], ids=" ".join)
def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a database, just some words that fill more than a header\n" * 20)
    before = path.read_bytes()
    result = cli(*command, "--store", f"sqlite:///{path}")
    assert result.exit_code == 1, result.output
    line = one_line(result)
    assert "cannot open store" in line and "not a database" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no stray -writer, -wal, -shm
    assert path.read_bytes() == before


def test_an_empty_store_url_is_an_error_not_the_default_file(tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(ValueError, match="empty"):
            conveyor.App("")
    finally:
        os.chdir(cwd)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["status"], ["emit", "w", "1"], ["pause", "w"]], ids=" ".join)
def test_an_empty_store_option_is_an_error_not_the_default_file(tmp_path: Path, command: list[str]) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = cli(*command, "--store", "")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2
    assert "store URL is empty" in one_line(result)
    assert list(tmp_path.iterdir()) == []
