"""The backup procedure of README.md (*Backups*), run for real: PostgreSQL dumped with `pg_dump -Fc`, the database
dropped, restored with `pg_restore` into an empty one, `aftercare db upgrade`, then the assistant started on it
answers a participant and every sealed value (bot/db/sealed.py) opens with the key kept apart; SQLite copied with
its online backup API, the original removed, the copy put in its place, the same checks."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.app import build_application
from bot.config import Settings
from tests.support.cli import cli_env, ok_json
from tests.support.config import TEST_KEY
from tests.support.exercised import EngineChat, exercise, opened_values

pytestmark = pytest.mark.slow


def _settings(database_url: str, data: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=data,
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        environment="development",
    )


async def _filled(settings: Settings) -> dict[str, int]:
    app = build_application(settings)
    try:
        await app.migrate()
        await exercise(app)
        return await opened_values(app.store)
    finally:
        await app.aclose()


async def _restored_works(settings: Settings) -> dict[str, Any]:
    """The assistant on the restored database: An (linked before the backup) is answered with her menu."""
    app = build_application(settings)
    try:
        await app.migrate()
        values = await opened_values(app.store)
        replies = await EngineChat(app, "7001").say("/menu")
        return {"menu": [b.label for r in replies for b in r.buttons], "values": values}
    finally:
        await app.aclose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command[0]}: {done.stderr}"


def test_a_backup_restores_and_the_assistant_reads_everything(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = asyncio.run(_filled(_settings(database_url, data)))
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        dump, server = tmp_path / "aftercare.dump", _libpq(str(url.set(database="postgres")))
        _run("/usr/bin/pg_dump", "-Fc", "-f", str(dump), _libpq(database_url))
        _run("/usr/bin/dropdb", "--force", f"--maintenance-db={server}", str(url.database))
        _run("/usr/bin/createdb", f"--maintenance-db={server}", str(url.database))
        _run("/usr/bin/pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(database_url), str(dump))
        restored = database_url
    else:
        original = Path(str(url.database))
        copy = tmp_path / "backup.db"
        with sqlite3.connect(original) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        source.close()
        target.close()
        original.unlink()
        place = tmp_path / "restored.db"
        copy.rename(place)
        restored = str(url.set(database=str(place)))
    env = cli_env(restored, data)
    assert ok_json(env, "db", "upgrade")["revision"]
    after = asyncio.run(_restored_works(_settings(restored, data)))
    assert "Điểm danh tháng này" in after["menu"]
    assert after["values"] == before and before
    assert ok_json(env, "audit", "verify")["ok"] is True
