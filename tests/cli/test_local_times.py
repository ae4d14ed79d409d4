"""Times printed for people are local (AFTERCARE_TIMEZONE) with their offset; --json keeps ISO-8601."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.cli.common import invocation, local_time


def test_an_instant_reads_in_the_configured_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invocation, "zone", ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local_time("2026-12-10T01:00:00+00:00") == "2026-12-10 08:00 UTC+07:00"
    assert local_time("2026-12-10T01:00:00") == "2026-12-10 08:00 UTC+07:00"  # naive: UTC, as the database stores
    monkeypatch.setattr(invocation, "zone", ZoneInfo("America/St_Johns"))
    assert local_time("2026-12-10T01:00:00+00:00") == "2026-12-09 21:30 UTC-03:30"


@pytest.mark.parametrize(
    ("zone", "shown"), [("Asia/Ho_Chi_Minh", "08:00 UTC+07:00"), ("Europe/Paris", "02:00 UTC+01:00")]
)
def test_tick_says_when_in_local_time_and_json_in_iso(database_url: str, tmp_path: Path, zone: str, shown: str) -> None:
    env = {
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
        "AFTERCARE_ENCRYPTION_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),  # a fresh database: any key
        "AFTERCARE_ENVIRONMENT": "development",
        "AFTERCARE_TIMEZONE": zone,
    }
    at = ["tick", "--at", "2026-12-10T08:00:00+07:00"]
    human = CliRunner().invoke(cli, at, env=env, catch_exceptions=False)
    assert human.exit_code == 0 and human.stdout.startswith(f"2026-12-10 {shown}: planned 0 reminders"), human.output
    machine = CliRunner().invoke(cli, [*at, "--json"], env=env, catch_exceptions=False)
    assert json.loads(machine.stdout)["at"] == "2026-12-10T01:00:00+00:00"
