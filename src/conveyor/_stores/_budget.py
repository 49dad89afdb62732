"""PostgreSQL connection budgets: how many connections one process's store may open, how ``conveyor
run --max-connections`` splits a total across its processes, and the application_name of each role.

One store opens, at most: a pool (reads, admin calls, heartbeats, rescues; ``pool_size``, default 10),
a lane of dedicated connections for single emits (8), a lane for the runner's claims and acks (2), and
one LISTEN connection per kind of wake-up it listens for (a runner's; a process's result waiters').
``max_connections=N`` in the store URL caps the sum at N (``sizes``); lanes that are full fall back to
the pool, so a smaller budget costs speed, never correctness.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "MIN_PER_PROCESS",
    "WEB_SHARE",
    "Sizes",
    "is_postgres",
    "role_url",
    "runner_share",
    "sizes",
    "with_param",
]

MIN_PER_PROCESS = 2
"""The smallest budget of one process: one LISTEN connection and a pool of one."""
WEB_SHARE = 4
"""What ``conveyor run --max-connections`` keeps for its web face (a pool of 2, a LISTEN connection
for result long polls, and one more that a web face never opens: the runner lane's)."""
DEFAULT_POOL = 10
EMIT_LANE = 8
RUNNER_LANE = 2


@dataclass(frozen=True, slots=True)
class Sizes:
    pool: int
    emit_lane: int
    runner_lane: int
    listen: int = 1

    @property
    def total(self) -> int:
        return self.pool + self.emit_lane + self.runner_lane + self.listen


def sizes(budget: int | None, pool_size: int | None = None) -> Sizes:
    """How a store splits ``budget`` connections (None: no cap, the defaults). One is kept for a
    LISTEN connection; then one for the runner lane, up to 8 for the emit lane (a third of what is
    left) and the rest for the pool (at most ``pool_size`` when given)."""
    if budget is None:
        return Sizes(pool_size or DEFAULT_POOL, EMIT_LANE, RUNNER_LANE)
    if budget < MIN_PER_PROCESS:
        raise ValueError(f"max_connections must be >= {MIN_PER_PROCESS}, not {budget}")
    rest = budget - 1
    runner_lane = 1 if rest >= 2 else 0
    emit_lane = min(EMIT_LANE, (rest - 1 - runner_lane) // 3) if rest > 2 else 0
    pool = rest - runner_lane - emit_lane
    if pool_size is not None:
        pool = min(pool, pool_size)
    return Sizes(pool, emit_lane, runner_lane)


def runner_share(total: int, processes: int, web: bool) -> int:
    """Each runner process's budget when ``conveyor run`` may open ``total`` connections (ValueError
    when that is not enough for ``processes`` runners, and the web face when ``web``)."""
    kept = WEB_SHARE if web else 0
    share = (total - kept) // processes
    if share < MIN_PER_PROCESS:
        need = kept + MIN_PER_PROCESS * processes
        web_part = f" and {WEB_SHARE} for the web face" if web else ""
        raise ValueError(
            f"--max-connections {total} is too small for {processes} runner processes: each needs at "
            f"least {MIN_PER_PROCESS}{web_part}, {need} in all (or use fewer --processes)"
        )
    return share


def is_postgres(url: str) -> bool:
    return url.partition("://")[0].lower() in ("postgresql", "postgres")


def with_param(url: str, name: str, value: str, *, keep: bool = False) -> str:
    """``url`` with the query parameter ``name`` set to ``value`` (``keep``: unless it has one)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    if keep and any(k == name for k, _ in params):
        return url
    params = [(k, v) for k, v in params if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(params)))


def role_url(url: str, role: str, budget: int | None = None) -> str:
    """The store URL a process of ``role`` (runner, web) opens: on PostgreSQL its connections are named
    ``conveyor-<role>`` in ``pg_stat_activity`` (unless the URL names them) and, with ``budget``,
    capped by ``max_connections``. Other stores' URLs are returned as they are."""
    if not is_postgres(url):
        return url
    url = with_param(url, "fallback_application_name", f"conveyor-{role}", keep=True)
    return url if budget is None else with_param(url, "max_connections", str(budget))
