"""Structured logs: readable locally, JSON in production, and never a bot token.

Libraries log through the standard `logging` module (uvicorn, APScheduler, SQLAlchemy, aiogram, httpx, asyncio):
their records go through the same structlog processors as ours (`ProcessorFormatter`), so in JSON mode every line
on stderr is one JSON object, and every line, tracebacks included, is redacted before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import Any

import structlog

# Telegram tokens look like 123456:ABC-…; both platforms put them in URL paths (/bot<token>/method).
_TOKEN_PATTERNS = (
    re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}"),
    re.compile(r"(/bot)[^/\s\"']+"),
)
_QUERY = re.compile(r"\?[^\s\"']*")

# Loggers of the libraries the process runs; they all propagate to the root handler configured below.
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler", "sqlalchemy", "aiogram", "httpx")


def redact(text: str) -> str:
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


def _clean(value: Any) -> Any:
    """Strings redacted, containers walked, anything else made a redacted string (a renderer would `repr` it)."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    return redact(repr(value))


def _redact_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in ("exc_info", "_record", "_from_structlog"):  # rendered (and then redacted) by later processors
            continue
        event[key] = _clean(value)
    return event


class _AccessFilter(logging.Filter):
    """An access line (if uvicorn's access log is ever switched on) keeps the path without its query string: links
    and webhooks may carry tokens there; tokens in paths are redacted like everywhere else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = _QUERY.sub("?…", args[2])
            record.args = tuple(args)
        return True


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """Whatever sys.stderr is when a line is written (a test runner may swap and close the one seen at startup)."""
    return structlog.PrintLogger(sys.stderr)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _log_unhandled(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """A crash's traceback is a log line like any other: structured and redacted, not Python's raw print."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("aftercare").critical("unhandled_exception", exc_info=(kind, value, tb))


def configure_logging(*, json_logs: bool, level: int = logging.INFO) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    final: list[Any] = [
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _redact_event,
        renderer,
    ]
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = []  # uvicorn's own config (if any ran) would print plain lines past the formatter
        library.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.filters[:] = [f for f in access.filters if not isinstance(f, _AccessFilter)]
    access.addFilter(_AccessFilter())
    sys.excepthook = _log_unhandled
