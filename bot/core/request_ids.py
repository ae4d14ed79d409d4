"""A request id on every log line of one unit of work (a web request, a polled update, a scheduler run): bound in
structlog's context variables, which every log line merges (bot/logging.py), and which tasks started inside inherit.

An id sent by a proxy (`X-Request-ID`) is kept when it is a plain token, so lines can be matched across hops;
anything else (too long, odd characters that could forge a log field or carry data) is replaced by a new one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

KEY = "request_id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def new_request_id() -> str:
    return secrets.token_hex(8)


def sane_request_id(candidate: str | None) -> str:
    """`candidate` when it is a token of up to 64 letters, digits and `._:-`; otherwise a new id."""
    if candidate and _SANE.fullmatch(candidate):
        return candidate
    return new_request_id()


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """Every log line inside the block (and in tasks started in it) carries `request_id`; the previous one, if any,
    is restored after."""
    request_id = request_id or new_request_id()
    # bind + reset by token: structlog's `bound_contextvars` first copies the whole context to save what it
    # replaces, several times the cost on every webhook request.
    tokens = structlog.contextvars.bind_contextvars(**{KEY: request_id})
    try:
        yield request_id
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
