"""Worker specs (a handler and its options) and the registry of them."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._control import DEFAULT_MAX_SNOOZES, check_max_snoozes
from ._rates import Rate, RateSpec, parse_rate
from ._results import check_results
from ._typed import EventType, event_type_of

if TYPE_CHECKING:
    from ._schedules import Schedules

__all__ = ["Backoff", "Handler", "Registry", "WorkerSpec", "check_worker_name"]

Handler = Callable[..., Any]
Backoff = float | Callable[[int], float]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}")
NAME_RULE = "1-200 characters of letters, digits and _ . : / -, starting with a letter or digit"
_checked: set[str] = set()  # names already known to be valid: the emit path checks each name once


def check_worker_name(name: object) -> str:
    """Return ``name`` if it is a valid worker name, else raise ValueError saying the rule."""
    if name in _checked:
        return name
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise ValueError(f"invalid worker name {name!r}: a worker name is {NAME_RULE}")
    if len(_checked) < 100_000:
        _checked.add(name)
    return name


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    name: str
    handler: Handler
    concurrency: int | None = None
    max_attempts: int = 5
    backoff: Backoff = 1.0
    timeout: float | None = 300.0
    traces: int = 10
    loop_limit: int | None = 1000
    max_snoozes: int = DEFAULT_MAX_SNOOZES
    """Times ``Incomplete`` may send one message back before it is a dead letter (``_control.py``)."""
    rate: Rate | None = None
    """At most so many starts per period across every runner (``_rates.py``; None: no limit)."""
    results: float | None = None
    """Seconds each finished message's outcome is kept (``_results.py``); None: not kept."""
    is_async: bool = False
    wants_message: bool = False
    event_type: EventType | None = None
    """The pydantic model or dataclass the handler's event parameter is annotated with (``_typed.py``);
    None: the handler takes the JSON value."""

    @classmethod
    def build(
        cls,
        name: str,
        handler: Handler,
        *,
        concurrency: int | None,
        max_attempts: int,
        backoff: Backoff,
        timeout: float | None,
        traces: int,
        loop_limit: int | None,
        max_snoozes: int = DEFAULT_MAX_SNOOZES,
        rate: RateSpec | None = None,
        results: float | None = None,
    ) -> WorkerSpec:
        check_worker_name(name)
        if not callable(handler):
            raise TypeError(f"worker {name!r}: handler must be callable, not {type(handler).__name__}")
        _check_int("concurrency", concurrency, minimum=1, optional=True)
        _check_int("max_attempts", max_attempts, minimum=1)
        _check_int("traces", traces, minimum=0)
        _check_int("loop_limit", loop_limit, minimum=1, optional=True)
        if not callable(backoff) and (
            isinstance(backoff, bool) or not isinstance(backoff, int | float) or not backoff >= 0
        ):
            raise ValueError(
                f"backoff must be seconds >= 0 or a callable attempt -> seconds, not {backoff!r}"
            )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):
            raise ValueError(f"timeout must be seconds > 0 or None, not {timeout!r}")
        return cls(
            name=name,
            handler=handler,
            concurrency=concurrency,
            max_attempts=max_attempts,
            backoff=backoff,
            timeout=None if timeout is None else float(timeout),
            traces=traces,
            loop_limit=loop_limit,
            max_snoozes=check_max_snoozes(max_snoozes),
            rate=None if rate is None else parse_rate(rate),
            results=check_results(results),
            is_async=_is_async(handler),
            wants_message=_wants_message(name, handler),
            event_type=event_type_of(name, handler),
        )


def _is_async(handler: Handler) -> bool:
    """``async def`` functions and objects whose ``__call__`` is one. (Other plain callables that return
    an awaitable, an async function under a decorator for one, are awaited when they return it.)"""
    if inspect.iscoroutinefunction(handler):
        return True
    if inspect.isfunction(handler) or inspect.ismethod(handler) or inspect.isclass(handler):
        return False
    return inspect.iscoroutinefunction(type(handler).__call__)  # an object with ``async def __call__``


def _check_int(what: str, value: object, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        extra = " or None" if optional else ""
        raise ValueError(f"{what} must be an int >= {minimum}{extra}, not {value!r}")


def _wants_message(name: str, handler: Handler) -> bool:
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    if len(positional) not in (1, 2):
        raise TypeError(
            f"worker {name!r}: the handler takes (event) or (event, msg), "
            f"not {len(positional)} required positional parameters"
        )
    return len(positional) == 2


class Registry:
    """The workers one app defines, by name."""

    def __init__(self) -> None:
        from ._schedules import Schedules

        self._specs: dict[str, WorkerSpec] = {}
        self.schedules: Schedules = Schedules()
        """The app's schedules (the runners' ticker emits their ticks)."""

    def add(self, spec: WorkerSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"worker {spec.name!r} is already defined in this app")
        self._specs[spec.name] = spec

    def get(self, name: str) -> WorkerSpec | None:
        return self._specs.get(name)

    def __getitem__(self, name: str) -> WorkerSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[WorkerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return list(self._specs)

    def limits(self) -> dict[str, int | None]:
        """Worker name -> global concurrency limit (None: no limit), as the store's claim takes it."""
        return {spec.name: spec.concurrency for spec in self._specs.values()}

    def rates(self) -> dict[str, Rate]:
        """Worker name -> rate limit, for the workers that have one."""
        return {spec.name: spec.rate for spec in self._specs.values() if spec.rate is not None}
