"""Library log lines (uvicorn, APScheduler, SQLAlchemy…) go through the same JSON rendering and redaction as ours,
tracebacks included; the SQL engine never puts bound values in an error."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.db.engine import make_engine
from bot.logging import configure_logging

TOKEN = "123456789:AAE-secret-token-of-the-bot-api"
NATIONAL_ID = "079912345678"


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    configure_logging(json_logs=True)
    try:
        yield
    finally:
        root.handlers[:], root.level, sys.excepthook = handlers, level, hook


def _lines(captured: str) -> list[dict[str, object]]:
    lines = [line for line in captured.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # every line is one JSON object


def _fail_with_token() -> None:
    raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")


@pytest.mark.parametrize("name", ["uvicorn.error", "apscheduler.executors.default", "aiogram.dispatcher", "httpx"])
def test_library_lines_and_their_tracebacks_are_json_and_redacted(
    json_logs: None, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    try:
        _fail_with_token()
    except RuntimeError:
        logging.getLogger(name).exception("Job %s raised an exception at %s", "plan", f"/bot{TOKEN}/getUpdates")
    out = capsys.readouterr()
    assert out.out == ""
    (line,) = _lines(out.err)
    assert line["logger"] == name and line["level"] == "error"
    assert "Traceback" in str(line["exception"]) and "_fail_with_token" in str(line["exception"])
    assert TOKEN not in out.err and TOKEN.split(":")[1] not in out.err


def test_access_lines_drop_query_strings(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    access = logging.getLogger("uvicorn.access")
    access.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/login?token=abc123secret", "1.1", 200)
    err = capsys.readouterr().err
    assert "abc123secret" not in err and "/login?…" in _lines(err)[0]["event"]  # type: ignore[operator]


def test_an_unhandled_crash_is_logged_as_json(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        _fail_with_token()
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    (line,) = _lines(err)
    assert line["event"] == "unhandled_exception" and TOKEN not in err


async def test_a_failing_statement_holds_no_bound_value(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE person (national_id TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO person VALUES (:v)"), {"v": NATIONAL_ID})
            with pytest.raises(Exception) as failure:
                await connection.execute(text("INSERT INTO person VALUES (:v)"), {"v": NATIONAL_ID})
        assert "UNIQUE" in str(failure.value) and NATIONAL_ID not in str(failure.value)
        logging.getLogger("sqlalchemy.engine").error("statement failed", exc_info=failure.value)
        err = capsys.readouterr().err
        assert "hidden due to hide_parameters" in err and NATIONAL_ID not in err
    finally:
        await engine.dispose()
