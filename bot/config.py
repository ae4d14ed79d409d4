"""Settings from the environment (prefix AFTERCARE_) or a .env file; the operator contract in README.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"", "changeme", "change-me", "change_me", "secret", "password", "placeholder", "todo", "xxx", "test"}


class ConfigError(RuntimeError):
    """A setting that must be fixed before the bot can start; the message says which and how."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCARE_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./aftercare.db"
    # Scheduler leadership (advisory locks) and LISTEN need a session of their own: behind a transaction-mode pooler
    # (PgBouncer) point this at PostgreSQL itself. None: `database_url`.
    direct_database_url: str | None = None
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    public_url: str | None = None
    webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    scheduler_enabled: bool = True
    timezone: str = "Asia/Ho_Chi_Minh"
    encryption_key: SecretStr | None = None
    previous_encryption_keys: SecretStr | None = None  # comma-separated; during a key rotation they only read
    data_dir: Path = Path("./data")
    simulator_enabled: bool | None = None
    invite_ttl_days: int = Field(default=14, ge=1, le=90)
    log_format: Literal["console", "json"] | None = None
    quiet_hours: str = "21:00-07:00"
    telegram_rate_limit: float = Field(default=30.0, gt=0)
    zalo_rate_limit: float = Field(default=10.0, gt=0)
    plan_interval_seconds: int = Field(default=60, ge=5)
    dispatch_interval_seconds: float = Field(default=5.0, ge=0.5)
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    urgent_referral_minutes: int = Field(default=10, ge=1, le=240)
    safety_check_minutes: int = Field(default=10, ge=1, le=240)
    hotlines_file: Path | None = None
    canned_replies_file: Path | None = None
    retention_days: int = Field(default=365, ge=1, le=3650)
    # A person's request for a copy of their data: the commune's officer decides within this many days (to be checked
    # against Decree 356/2025), and a Zalo/simulator download link stays valid this many hours, for one download.
    data_request_days: int = Field(default=3, ge=1, le=30)
    data_link_hours: int = Field(default=72, ge=1, le=720)
    crisis_phrases_dir: Path | None = None
    inbound_per_minute: int = Field(default=30, ge=0, le=1000)  # per chat; 0 turns the limit off
    console_idle_minutes: int = Field(default=30, ge=5, le=720)  # a console session ends after this long unused
    console_session_hours: int = Field(default=12, ge=1, le=168)  # and after this long whatever happens
    console_totp: bool | None = None  # admins confirm a TOTP code after the link; unset: in production only
    # `aftercare run` serves with this many processes on one socket (PostgreSQL only; SQLite stays at one).
    workers: int = Field(default=1, ge=1, le=64)
    # "pgbouncer": the database URL points at PgBouncer in transaction mode (no server-side prepared statements
    # kept between transactions); "none": straight to PostgreSQL.
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # When set, `/metrics` answers only `Authorization: Bearer <token>` (Prometheus: `authorization.credentials`).
    metrics_token: SecretStr | None = None

    @field_validator(
        "telegram_token",
        "zalo_token",
        "public_url",
        "webhook_secret",
        "encryption_key",
        "previous_encryption_keys",
        "log_format",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`VAR=` in a compose file or .env means "not set", not "set to nothing"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_window(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @model_validator(mode="after")
    def _leader_connection(self) -> Settings:
        """Session advisory locks and LISTEN through a transaction-mode pooler would be taken on server connections
        other clients share: several processes could each believe they send. Refused at start-up instead."""
        if self.database_pooler == "pgbouncer" and not self.direct_database_url:
            raise ValueError(
                "AFTERCARE_DATABASE_POOLER=pgbouncer needs AFTERCARE_DIRECT_DATABASE_URL (PostgreSQL itself, for the "
                "scheduler's locks)"
            )
        return self

    @property
    def quiet(self) -> tuple[time, time]:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def simulator_on(self) -> bool:
        """The simulator lets anyone talk as anyone: on by default locally, never implied in production."""
        return self.simulator_enabled if self.simulator_enabled is not None else not self.is_production

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" if self.log_format else self.is_production


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """ "21:00-07:00" → (21:00, 07:00); "" or "off" → no quiet hours (start == end)."""
    if value.strip().lower() in ("", "off", "none"):
        return time(0), time(0)
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError as exc:
        raise ValueError(f"quiet hours look like 21:00-07:00, not {value!r}") from exc
    return start, end


@dataclass(frozen=True, slots=True)
class Secrets:
    encryption_key: bytes
    webhook_secret: str
    previous_keys: tuple[bytes, ...] = ()  # still read during a key rotation, never written with

    def webhook_secret_for(self, channel: str) -> str:
        """Each channel's own webhook secret, derived from the one setting: a secret handed to one platform never
        opens another's webhook, and rotating the setting rotates them all. Hex: within Telegram's alphabet
        (A-Z a-z 0-9 _ -, 1-256 characters) and Zalo's 8-256 characters, whatever the setting contains."""
        message = f"aftercare webhook secret for {channel}".encode()
        return hmac.new(self.webhook_secret.encode(), message, hashlib.sha256).hexdigest()


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDERS or lowered.startswith(("your-", "<", "${"))


def _decode_key(value: str, setting: str = "AFTERCARE_ENCRYPTION_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip().encode())
    except ValueError as exc:
        raise ConfigError(f"{setting} must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise ConfigError(f"{setting} must be base64 of 32 random bytes (see `aftercare keygen`)")
    return key


PREVIOUS_KEYS_FILE = "encryption.previous"  # local runs: the keys `keys rotate --new` moved aside, one a line


def previous_keys(settings: Settings) -> tuple[bytes, ...]:
    """The keys that only read (a rotation under way): the setting, or for local runs without it, the file that
    `aftercare keys rotate --new` keeps in the data directory."""
    setting = "AFTERCARE_PREVIOUS_ENCRYPTION_KEYS"
    if settings.previous_encryption_keys is not None:
        text = settings.previous_encryption_keys.get_secret_value().replace(",", "\n")
    elif settings.encryption_key is None and (settings.data_dir / PREVIOUS_KEYS_FILE).exists():
        text, setting = (settings.data_dir / PREVIOUS_KEYS_FILE).read_text(), PREVIOUS_KEYS_FILE
    else:
        return ()
    return tuple(_decode_key(part, setting) for part in text.split("\n") if part.strip())


def rotate_local_key(settings: Settings) -> str:
    """Local runs only: a new key into the data directory, the old one appended to the previous keys' file (mode
    0600). Returns the new key's text. Production sets both settings in its environment instead."""
    if settings.encryption_key is not None or settings.previous_encryption_keys is not None:
        raise ConfigError(
            "the keys come from the environment (AFTERCARE_ENCRYPTION_KEY): set the new key there and move the old "
            "one to AFTERCARE_PREVIOUS_ENCRYPTION_KEYS; --new only rotates the key kept in the data directory"
        )
    current = settings.data_dir / "encryption.key"
    if not current.exists():
        raise ConfigError(f"no key in {current} to rotate")
    old = current.read_text().strip()
    _decode_key(old)
    fresh = new_encryption_key()
    previous = settings.data_dir / PREVIOUS_KEYS_FILE
    kept = previous.read_text() if previous.exists() else ""
    _write_private(previous, kept + old + "\n")
    _write_private(current, fresh + "\n")
    return fresh


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    temporary.replace(path)


def _stored_secret(path: Path, make: str) -> str:
    """Read a locally generated secret, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make + "\n")
    return make


def new_encryption_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def existing_encryption_key(settings: Settings) -> bytes | None:
    """The key as configured or kept in the data directory, never a new one: for work on data already written
    (a migration re-sealing values), where a generated key could only fail to open it."""
    if settings.encryption_key is not None:
        return _decode_key(settings.encryption_key.get_secret_value())
    stored = settings.data_dir / "encryption.key"
    return _decode_key(stored.read_text()) if stored.exists() else None


def resolve_secrets(settings: Settings) -> Secrets:
    """Production refuses missing or placeholder secrets; local runs generate them into the data directory."""
    key_value = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    hook_value = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if settings.is_production:
        if key_value is None or _is_placeholder(key_value):
            raise ConfigError(
                "AFTERCARE_ENCRYPTION_KEY is missing or a placeholder. In production it must be set to a real key "
                "(generate one with `aftercare keygen`) and kept safe: without it the stored data cannot be read."
            )
        if hook_value is not None and (_is_placeholder(hook_value) or len(hook_value) < 16):
            raise ConfigError("AFTERCARE_WEBHOOK_SECRET is a placeholder or shorter than 16 characters.")
        metrics = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        if metrics is not None and (_is_placeholder(metrics) or len(metrics) < 16):
            raise ConfigError("AFTERCARE_METRICS_TOKEN is a placeholder or shorter than 16 characters.")
        if settings.simulator_enabled:
            raise ConfigError(
                "AFTERCARE_SIMULATOR_ENABLED=true is refused in production: the simulator lets anyone who reaches "
                "the web server talk to the bot as any person. Unset it (or set it to false)."
            )
    if key_value is None:
        key_value = _stored_secret(settings.data_dir / "encryption.key", new_encryption_key())
    if hook_value is None:
        hook_value = _stored_secret(settings.data_dir / "webhook.secret", secrets.token_urlsafe(32))
    return Secrets(_decode_key(key_value), hook_value, previous_keys(settings))


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
