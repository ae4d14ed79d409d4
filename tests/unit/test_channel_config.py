"""Settings refused in production and per-channel webhook secrets (issue 13)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, resolve_secrets

GOOD_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
TELEGRAM_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg,arg-type]


def test_production_refuses_the_simulator(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, environment="production", encryption_key=GOOD_KEY, webhook_secret="x" * 32, simulator_enabled=True
    )
    with pytest.raises(ConfigError, match="AFTERCARE_SIMULATOR_ENABLED"):
        resolve_secrets(settings)


@pytest.mark.parametrize("enabled", [None, False])
def test_production_accepts_the_simulator_left_off(tmp_path: Path, enabled: bool | None) -> None:
    settings = _settings(
        tmp_path, environment="production", encryption_key=GOOD_KEY, webhook_secret="x" * 32, simulator_enabled=enabled
    )
    resolve_secrets(settings)
    assert not settings.simulator_on


def test_development_may_switch_the_simulator_on(tmp_path: Path) -> None:
    assert _settings(tmp_path, simulator_enabled=True).simulator_on
    resolve_secrets(_settings(tmp_path, simulator_enabled=True))


@pytest.mark.parametrize("setting", ["x" * 32, "one+secret/for.both=channels", "ünïcode secret with spaces ✓"])
def test_each_channel_gets_its_own_secret_in_telegrams_alphabet(tmp_path: Path, setting: str) -> None:
    secrets = resolve_secrets(_settings(tmp_path, webhook_secret=setting))
    telegram, zalo = secrets.webhook_secret_for("telegram"), secrets.webhook_secret_for("zalo")
    assert telegram != zalo and setting not in (telegram, zalo)
    assert TELEGRAM_SECRET_TOKEN.match(telegram) and TELEGRAM_SECRET_TOKEN.match(zalo)
    assert 8 <= len(zalo) <= 256  # Zalo's limit
    assert secrets.webhook_secret_for("telegram") == telegram  # stable across restarts


def test_a_generated_setting_also_derives_distinct_secrets(tmp_path: Path) -> None:
    first = resolve_secrets(_settings(tmp_path))
    assert first.webhook_secret_for("telegram") != first.webhook_secret_for("zalo")
    assert resolve_secrets(_settings(tmp_path)).webhook_secret_for("zalo") == first.webhook_secret_for("zalo")
