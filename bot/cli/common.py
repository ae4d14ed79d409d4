"""What every command shares: the --json flag and its one-object output, the one-line refusal, running one piece of
work against the application, the commune looked up by its code, and times shown in local time.

Imported at start-up by every command module, so it imports only typer and the standard library; the application,
the settings and asyncio are imported when a command runs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from bot.core.channel_names import SIMULATOR, TELEGRAM, ZALO

if TYPE_CHECKING:
    from bot.app import Application
    from bot.core.clock import Clock
    from bot.db.store import Repositories
    from bot.domain.entities import Unit
    from bot.services.operators import Operator

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


class LanguageChoice(StrEnum):
    vi = "vi"
    en = "en"


class ChannelChoice(StrEnum):
    telegram = TELEGRAM
    zalo = ZALO
    simulator = SIMULATOR


@dataclass
class Invocation:
    """What one run of the command line knows besides a command's own options: who takes responsibility (the root
    `--as`), and, once the settings are read, the time zone times are shown in to people."""

    as_staff: int | None = None
    zone: tzinfo | None = None


invocation = Invocation()


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False) if as_json else human)


def fail(as_json: bool, message: str) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def writable(as_json: bool, path: Path) -> None:
    """A file the command will write: its folder exists and it is not a folder; else the one-line error and exit 1,
    before any work is done."""
    if not path.parent.is_dir() or path.is_dir():
        fail(as_json, f"cannot write {path}: no such folder, or it is a folder")


def write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read (0600, whatever the umask; an existing file is narrowed too): what the
    commands write holds people's data (a personal export, certificates, cards, reports)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            fd = -1
            file.write(content)
    finally:
        if fd >= 0:
            os.close(fd)


def period(as_json: bool, first: str, last: str) -> tuple[date, date]:
    """--from and --to as dates, or the one-line error and exit 1."""
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        fail(as_json, "--from and --to must be dates as YYYY-MM-DD")


def with_app(as_json: bool, work: Callable[[Application, Operator], Awaitable[T]], clock: Clock | None = None) -> T:
    """Build the app, apply migrations, resolve who runs the command (--as, OS account), run one piece of work, close;
    operator errors (every ValueError and LookupError: unknown record, refused value, bad --as) become exit code 1."""
    import asyncio
    from zoneinfo import ZoneInfo

    from bot.app import build_application
    from bot.config import ConfigError, Settings
    from bot.logging import configure_logging
    from bot.services.operators import os_user, resolve

    async def main() -> T:
        settings = Settings()
        configure_logging(json_logs=settings.json_logs, level=logging.WARNING)  # stdout is for results only
        invocation.zone = ZoneInfo(settings.timezone)
        app = build_application(settings, clock=clock)
        try:
            await app.migrate()
            async with app.store.transaction() as repos:
                operator = await resolve(repos, invocation.as_staff, os_user())
            return await work(app, operator)
        finally:
            await app.aclose()

    try:
        return asyncio.run(main())
    except (ConfigError, LookupError, ValueError) as exc:
        fail(as_json, str(exc))


async def find_unit(repos: Repositories, code: str) -> Unit:
    """The unit with this code; an unknown code is the operator's error (LookupError: exit 1, the code named)."""
    found = await repos.units.by_code(code)
    if found is None:
        raise LookupError(f"no unit with code {code}")
    return found


def local_time(iso: str) -> str:
    """An instant from a JSON payload (ISO-8601) as people read it: in the configured time zone, to the minute, with
    its offset ("2026-12-10 08:00 UTC+07:00"). JSON keeps the ISO form."""
    at = datetime.fromisoformat(iso)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # the database's instants are UTC
    at = at.astimezone(invocation.zone or UTC)
    offset = at.strftime("%z")
    return f"{at:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"
