"""Logging in the runtime: handler records captured into traces, one line per failed message, and the
stderr output of runner processes (``conveyor run --log-level --log-format``)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import orjson

from .._context import current
from ._settle import one_line, storable

if TYPE_CHECKING:
    from .._registry import WorkerSpec
    from .._stores import Claimed

__all__ = [
    "CAPTURE_LEVEL",
    "LOG_FORMATS",
    "capture_logs",
    "configure_logging",
    "log_failure",
    "logging_config",
]

RUNNER_LOGGER = "conveyor.runner"
CAPTURE_LEVEL = logging.INFO
"""Where logging is not configured, records from this level up are captured (Python's default root
level, WARNING, would leave out every ``log.info``)."""
LOG_FORMATS = ("text", "json")
_MAX_RECORDS = 200
_MAX_ERROR = 1000
"""Characters of an error kept in its log line."""
_lock = threading.Lock()
_users = 0
_lowered = False
_config: tuple[int, str] | None = None

log = logging.getLogger(RUNNER_LOGGER)


class _TraceHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        ctx = current.get()
        if ctx is not None and record.name != RUNNER_LOGGER and len(ctx.logs) < _MAX_RECORDS:
            try:
                ctx.logs.append(storable(self.format(record)))
            except Exception:  # a bad log call must not fail the handler
                self.handleError(record)
        last = logging.lastResort
        if last is not None and record.levelno >= last.level and not _handled_elsewhere(record.name):
            last.handle(record)  # as Python does when no handler is configured


def _handled_elsewhere(name: str) -> bool:
    """Whether a handler other than the trace capture gets records of logger ``name`` (when none
    does, Python's last resort would have printed them: capturing must not take that away)."""
    logger: logging.Logger | None = logging.root if name == "root" else logging.getLogger(name)
    while logger is not None:
        if any(h is not _handler for h in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


_handler = _TraceHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


class capture_logs:  # a context manager, named like contextlib's
    """While any runner is active, the root logger feeds records to the current message's trace.

    Records are captured when they pass their logger's level. Where logging is not configured (the
    root logger has no handler and its default level), the root level is lowered to INFO meanwhile, so
    that ``log.info`` is captured; what reaches no other handler still goes to Python's last resort
    (stderr, WARNING and up) as it would without the capture.
    """

    def __enter__(self) -> None:
        global _users, _lowered
        with _lock:
            if _users == 0:
                root = logging.getLogger()
                if not root.handlers and root.level == logging.WARNING:
                    root.setLevel(CAPTURE_LEVEL)
                    _lowered = True
                root.addHandler(_handler)
            _users += 1

    def __exit__(self, *exc: object) -> None:
        global _users, _lowered
        with _lock:
            _users -= 1
            if _users == 0:
                root = logging.getLogger()
                root.removeHandler(_handler)
                if _lowered and root.level == CAPTURE_LEVEL:
                    root.setLevel(logging.WARNING)
                _lowered = False


def log_failure(
    runner: str,
    c: Claimed,
    spec: WorkerSpec,
    error: str,
    retry_in: float | None,
    *,
    attempt: int | None = None,
) -> None:
    """One line for a failed message: worker, id, attempt, error, and what happens next."""
    text = one_line(error)
    if len(text) > _MAX_ERROR:
        text = text[:_MAX_ERROR] + "…"
    attempt = c.attempt if attempt is None else attempt
    extra = {"worker": c.worker, "message_id": c.id, "attempt": attempt, "error": text, "runner": runner}
    if retry_in is None:
        log.error(
            "message %d (%s) failed on attempt %d of %d, now a dead letter: %s",
            c.id,
            c.worker,
            attempt,
            spec.max_attempts,
            text,
            extra=extra,
        )
    else:
        log.warning(
            "message %d (%s) failed on attempt %d of %d, retried in %.3g s: %s",
            c.id,
            c.worker,
            c.attempt,
            spec.max_attempts,
            retry_in,
            text,
            extra=dict(extra, retry_in=retry_in),
        )


# -- stderr output of runner processes ------------------------------------------------------------------

_EXTRA = ("worker", "message_id", "attempt", "error", "retry_in", "runner", "trace_id", "span_id")


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s conveyor[%(process)d] %(levelname)s %(name)s: %(message)s")


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, and a failure's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in _EXTRA:
            if name in record.__dict__:
                out[name] = record.__dict__[name]
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler ``configure_logging`` installs (found again by its class)."""


def configure_logging(level: int | str = logging.INFO, fmt: str = "text") -> None:
    """Log to stderr from ``level`` up, one record a line (``fmt``: text or json), replacing what an
    earlier call installed. The root logger's level becomes at most INFO, so that handler records are
    captured into traces whatever ``level`` says is printed."""
    global _config
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler(sys.stderr)
    handler.setLevel(number)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _TextFormatter())
    root.addHandler(handler)
    root.setLevel(min(number, CAPTURE_LEVEL))
    _config = (number, fmt)


def logging_config() -> tuple[int, str] | None:
    """(level, format) of the last ``configure_logging`` in this process, if any."""
    return _config


def has_user_handlers() -> bool:
    """Whether the root logger has handlers other than the ones the runtime installs."""
    return any(not isinstance(h, _StderrHandler) and h is not _handler for h in logging.getLogger().handlers)
