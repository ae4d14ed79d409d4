from __future__ import annotations

import base64
import stat
import unicodedata
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, resolve_secrets
from bot.flows.engine import clean_text
from bot.logging import redact

GOOD_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg,arg-type]


def test_clean_text_composes_vietnamese_and_drops_control_characters() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert decomposed != "Nguyễn Văn An"
    assert clean_text(decomposed + "\u200b\x00") == "Nguyễn Văn An"
    assert clean_text("  dòng 1\ndòng 2  ") == "dòng 1\ndòng 2"


def test_local_run_generates_private_secrets_once(tmp_path: Path) -> None:
    first = resolve_secrets(_settings(tmp_path))
    again = resolve_secrets(_settings(tmp_path))
    assert first == again and len(first.encryption_key) == 32 and len(first.webhook_secret) >= 32
    mode = stat.S_IMODE((tmp_path / "encryption.key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("key", [None, "changeme", "your-key-here", ""])
def test_production_refuses_missing_or_placeholder_encryption_key(tmp_path: Path, key: str | None) -> None:
    values: dict[str, object] = {"environment": "production"}
    if key is not None:
        values["encryption_key"] = key
    with pytest.raises(ConfigError, match="AFTERCARE_ENCRYPTION_KEY"):
        resolve_secrets(_settings(tmp_path, **values))
    assert not (tmp_path / "encryption.key").exists()


def test_production_refuses_placeholder_webhook_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AFTERCARE_WEBHOOK_SECRET"):
        resolve_secrets(_settings(tmp_path, environment="production", encryption_key=GOOD_KEY, webhook_secret="secret"))


@pytest.mark.parametrize("token", ["changeme", "short-token"])
def test_production_refuses_a_weak_metrics_token(tmp_path: Path, token: str) -> None:
    values = {"environment": "production", "encryption_key": GOOD_KEY, "metrics_token": token}
    with pytest.raises(ConfigError, match="AFTERCARE_METRICS_TOKEN"):
        resolve_secrets(_settings(tmp_path, **values))


def test_an_empty_metrics_token_is_unset(tmp_path: Path) -> None:
    assert _settings(tmp_path, metrics_token="  ").metrics_token is None  # `VAR=` in a compose file


def test_production_accepts_real_secrets_and_disables_the_simulator(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production", encryption_key=GOOD_KEY, webhook_secret="x" * 32)
    assert resolve_secrets(settings).encryption_key == bytes(range(32))
    assert not settings.simulator_on and settings.json_logs


def test_a_key_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    short = base64.urlsafe_b64encode(b"0" * 16).decode()
    with pytest.raises(ConfigError, match="32 random bytes"):
        resolve_secrets(_settings(tmp_path, encryption_key=short))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AFTERCARE_HTTP_PORT", "9090")
    monkeypatch.setenv("AFTERCARE_TIMEZONE", "Asia/Bangkok")
    settings = _settings(tmp_path)
    assert settings.http_port == 9090 and settings.timezone == "Asia/Bangkok"
    assert settings.database_url == "sqlite+aiosqlite:///./aftercare.db"
    assert settings.telegram_api_url == "https://api.telegram.org"


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        _settings(tmp_path, timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("line", "leak"),
    [
        ("POST https://api.telegram.org/bot123456789:AAHk-secretsecretsecretsecret/sendMessage", "AAHk"),
        ("GET https://bot-api.zaloplatforms.com/botzalo-token-value/getMe", "zalo-token-value"),
        ("token 987654321:ZZZZZZZZZZZZZZZZZZZZZZZZZZ in text", "ZZZZ"),
    ],
)
def test_tokens_are_redacted_from_log_lines(line: str, leak: str) -> None:
    cleaned = redact(line)
    assert leak not in cleaned and "***" in cleaned


def test_every_setting_is_in_the_readme_table() -> None:
    """The operator contract: each setting is documented where operators look (README, *Settings*)."""
    from pathlib import Path

    from bot.config import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in Settings.model_fields if f"AFTERCARE_{name.upper()}" not in table]
    assert not missing, missing


def test_every_command_is_in_the_readme_table() -> None:
    """The operator contract: each CLI command (with its group) has a row in the README's *Command line* table."""
    from pathlib import Path

    import typer

    from bot.cli import cli

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    table = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `aftercare ")]

    def commands(app: typer.Typer, prefix: str) -> list[str]:
        found: list[str] = []
        if app.registered_callback is not None and app.registered_callback.invoke_without_command and prefix:
            found.append(prefix)  # a group that also runs on its own (`aftercare chat`)
        for command in app.registered_commands:
            found.append(f"{prefix} {command.name or command.callback.__name__}".strip())  # type: ignore[union-attr]
        for group in app.registered_groups:
            assert group.typer_instance is not None
            found += commands(group.typer_instance, f"{prefix} {group.name}".strip())
        return found

    names = commands(cli, "")
    assert len(names) > 20, names
    missing = [name for name in names if not any(row.startswith(f"| `aftercare {name}") for row in rows)]
    assert not missing, missing


def test_pgbouncer_without_a_direct_connection_for_the_locks_is_refused(tmp_path: Path) -> None:
    """Advisory locks through a transaction-mode pooler could make several senders: refused at start-up."""
    url = "postgresql+asyncpg://bot@pgbouncer:6432/aftercare"
    with pytest.raises(ValueError, match="AFTERCARE_DIRECT_DATABASE_URL"):
        Settings(database_url=url, database_pooler="pgbouncer", data_dir=tmp_path)
    direct = "postgresql+asyncpg://bot@db:5432/aftercare"
    settings = Settings(database_url=url, database_pooler="pgbouncer", direct_database_url=direct, data_dir=tmp_path)
    assert settings.direct_database_url == direct
