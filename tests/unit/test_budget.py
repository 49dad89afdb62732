"""How a PostgreSQL connection budget splits: per process (pool, lanes, LISTEN) and per ``conveyor run``."""

from __future__ import annotations

import pytest

from conveyor._stores._budget import MIN_PER_PROCESS, WEB_SHARE, role_url, runner_share, sizes
from conveyor._stores._pg_url import budget_of, parse_url


@pytest.mark.parametrize("budget", range(MIN_PER_PROCESS, 60))
def test_a_budget_is_spent_exactly_and_every_part_can_work(budget: int) -> None:
    s = sizes(budget)
    assert s.total == budget
    assert s.pool >= 1 and s.listen == 1 and s.emit_lane <= 8 and s.runner_lane <= 1


def test_defaults_and_an_explicit_pool_size() -> None:
    assert sizes(None).total == 10 + 8 + 2 + 1
    assert sizes(None, 3).pool == 3
    assert sizes(30, 2).pool == 2  # pool_size still caps the pool within a budget
    with pytest.raises(ValueError, match="max_connections must be >= 2"):
        sizes(1)


def test_conveyor_run_splits_its_total_or_says_how_many_it_needs() -> None:
    assert runner_share(36, 8, web=True) == 4
    assert runner_share(16, 8, web=False) == 2
    with pytest.raises(ValueError, match=r"too small for 8 runner processes.* 20 in all"):
        runner_share(19, 8, web=True)
    assert WEB_SHARE == 4


def test_role_urls_name_connections_and_carry_the_budget() -> None:
    url = role_url("postgresql://u@h/db?schema=s", "runner", 4)
    conninfo, schema, _pool = parse_url(url)
    assert "fallback_application_name=conveyor-runner" in conninfo and "max_connections" not in conninfo
    assert schema == "s" and budget_of(url) == 4
    named = "postgresql://u@h/db?application_name=mine"
    assert "application_name=mine" in role_url(named, "runner")  # theirs wins over the fallback
    assert role_url("sqlite:///x.db", "runner", 4) == "sqlite:///x.db"
    with pytest.raises(ValueError, match="max_connections must be an int"):
        budget_of("postgresql://u@h/db?max_connections=1")
