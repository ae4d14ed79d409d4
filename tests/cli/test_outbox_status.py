"""`aftercare outbox status`: the counts by status, and how long the oldest message due now has waited (a growing
age says sending lags behind)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_application
from bot.config import Settings
from bot.db.repositories.outbox import NewMessage
from bot.domain.planning import MessageKind
from tests.support.cli import call, ok_json
from tests.support.config import TEST_KEY

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def _queue(database_url: str, data_dir: Path, ages: list[timedelta]) -> None:
    """Pending messages due `age` ago (the CLI reads the real clock)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=data_dir,
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        environment="development",
    )
    app = build_application(settings)
    try:
        await app.migrate()
        now = datetime.now(UTC)
        async with app.store.transaction() as repos:
            await repos.outbox.add([NewMessage(f"t:{n}", MessageKind.DIGEST, now - age) for n, age in enumerate(ages)])
    finally:
        await app.aclose()


def test_status_says_how_long_the_oldest_due_message_waited(env: dict[str, str], database_url: str) -> None:
    env = {**env, "AFTERCARE_QUIET_HOURS": "off"}  # the CLI reads the real clock: the test must not hang on the hour
    empty = ok_json(env, "outbox", "status")
    assert empty == {"counts": {}, "oldest_due_seconds": None}
    assert "oldest due\tnone" in call(env, "outbox", "status").stdout
    asyncio.run(_queue(database_url, Path(env["AFTERCARE_DATA_DIR"]), [timedelta(minutes=5), timedelta(hours=-1)]))
    status = ok_json(env, "outbox", "status")
    assert status["counts"] == {"pending": 2}  # one due, one later
    assert 300 <= status["oldest_due_seconds"] < 360
    human = call(env, "outbox", "status").stdout
    assert "pending\t2" in human and "oldest due\t30" in human


def test_in_quiet_hours_only_urgent_messages_count_as_waiting(env: dict[str, str], database_url: str) -> None:
    """At night only urgent messages may go: a digest waiting for the morning is not a lagging sender."""
    env = {**env, "AFTERCARE_QUIET_HOURS": "00:01-00:00"}  # quiet all day but the minute after midnight
    asyncio.run(_queue(database_url, Path(env["AFTERCARE_DATA_DIR"]), [timedelta(minutes=5)]))
    status = ok_json(env, "outbox", "status")
    assert status["counts"] == {"pending": 1}
    now = datetime.now(UTC).astimezone(HANOI)
    if now.hour or now.minute:  # (in the one open minute of the day it does count)
        assert status["oldest_due_seconds"] is None
