"""Transcripts run through every channel: the simulator, Telegram by long polling and Telegram by webhook."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.app import Application
from bot.config import Settings
from bot.runner import start_channels
from bot.web.app import build_web
from tests.e2e.simulator_client import Simulator
from tests.e2e.telegram_client import TelegramChats
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, running
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import running as running_zalo
from tests.support.chats import Chat, Chats, at_local, link_participant
from tests.support.config import TELEGRAM_TOKEN, TEST_KEY, ZALO_TOKEN
from tests.support.factories import Commune, seed_commune
from tests.support.server import bound_socket, http_client, serve

if TYPE_CHECKING:
    from tests.support.templates import Templates

CHANNELS = ["simulator", "telegram-polling", "telegram-webhook", "zalo-polling", "zalo-webhook"]


@pytest.fixture(params=CHANNELS)
def channel_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def fake_telegram(channel_kind: str) -> AsyncIterator[FakeTelegram | None]:
    if not channel_kind.startswith("telegram"):
        yield None
        return
    async with running(FakeTelegram(token=TELEGRAM_TOKEN)) as fake:
        yield fake


@pytest.fixture
async def fake_zalo(channel_kind: str) -> AsyncIterator[FakeZalo | None]:
    if not channel_kind.startswith("zalo"):
        yield None
        return
    async with running_zalo(FakeZalo(token=ZALO_TOKEN)) as fake:
        yield fake


@pytest.fixture
def web_socket() -> Iterator[socket.socket]:
    sock = bound_socket()
    yield sock
    sock.close()


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    channel_kind: str,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
    web_socket: socket.socket,
) -> Settings:
    values: dict[str, object] = {}
    if fake_telegram is not None:
        values |= {"telegram_token": TELEGRAM_TOKEN, "telegram_api_url": fake_telegram.base_url}
    if fake_zalo is not None:
        values |= {"zalo_token": ZALO_TOKEN, "zalo_api_url": fake_zalo.base_url}
    if channel_kind.endswith("-webhook"):
        values["public_url"] = f"http://127.0.0.1:{web_socket.getsockname()[1]}"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        telegram_rate_limit=1000,  # the limiter is measured in bench/, not waited for here
        zalo_rate_limit=1000,
        **values,  # type: ignore[arg-type]
    )


@pytest.fixture
async def sim(
    app: Application,
    channel_kind: str,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
    web_socket: socket.socket,
) -> AsyncIterator[Chats]:
    """People talking to the bot through the channel under test (the web server runs in every mode)."""
    async with serve(build_web(app), web_socket) as base, http_client(base, timeout=10) as http:
        if fake_telegram is None and fake_zalo is None:
            yield Simulator(http)
            return
        stop = asyncio.Event()
        tasks = await start_channels(app, stop)
        webhook = channel_kind.endswith("-webhook")
        chats: Chats = (
            TelegramChats(fake_telegram, webhook) if fake_telegram is not None else ZaloChats(fake_zalo, webhook)  # type: ignore[arg-type]
        )
        try:
            yield chats
        finally:
            stop.set()
            await asyncio.gather(*tasks)


@pytest.fixture
def commune_template() -> None:
    """Its name among a test's fixtures makes `database_url` (tests/conftest.py) copy the worker's template where
    `seed_commune` already ran; only `commune` below asks for it (a `commune` of another directory seeds its own)."""


@pytest.fixture
async def commune(app: Application, templates: Templates, commune_template: None) -> Commune:
    """`seed_commune`'s commune. The test's database is a copy of a template where the worker ran it once (through
    the same services, at the same fake time: tests/conftest.py); a database made otherwise is seeded here."""
    seeded = templates.commune_of(app.settings.database_url)
    return seeded.for_test(app) if seeded is not None else await seed_commune(app)


@pytest.fixture
async def chats(sim: Chats, commune: Commune) -> dict[str, Chat]:
    """An (linked, consenting), her cadre Bình and the counsellor Dung, linked."""
    people = {"an": sim.chat("an"), "cadre": sim.chat("binh"), "counsellor": sim.chat("dung")}
    await link_participant(people["an"], commune.an_code)
    await people["cadre"].say(commune.cadre_code)
    await people["counsellor"].say(commune.counsellor_code)
    return people


@pytest.fixture
async def linked(app: Application, sim: Chats, commune: Commune, clock: FakeClock) -> dict[str, Chat]:
    """An linked and consenting, the cadre and the officer linked (23/11); then 12/12/2026, 08:00, planned."""
    chats = {"an": sim.chat("an"), "cadre": sim.chat("binh"), "officer": sim.chat("cuong")}
    await link_participant(chats["an"], commune.an_code)
    (await chats["cadre"].say(commune.cadre_code)).says("Xin chào Trần Thị Bình").offers("Người tôi đồng hành")
    (await chats["officer"].say(commune.officer_code)).offers("Danh sách xã/phường", "Chờ xác nhận")
    clock.set(at_local(date(2026, 12, 12)))
    for chat in chats.values():
        await chat.during(app.scheduler.tick)  # whatever was due by then is delivered and out of the way
    return chats


# On PostgreSQL a transcript runs through one channel: the database sees the same statements whichever channel
# carried the words (the channels' own rows — updates, identities — are tested on both databases in tests/channels
# and tests/integration), and every channel on every database doubled the suite's longest part.
POSTGRES_CHANNEL_ORDER = ("telegram-webhook", "zalo-webhook", "simulator", "telegram-polling", "zalo-polling")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def group(item: pytest.Item) -> tuple[object, ...]:
        values = getattr(getattr(item, "callspec", None), "params", {})
        rest = sorted((k, repr(v)) for k, v in values.items() if k not in ("database_url", "channel_kind"))
        return (item.nodeid.split("[", 1)[0], tuple(rest))

    def param(item: pytest.Item, name: str) -> object:
        params = getattr(item, "callspec", None)
        return params.params.get(name) if params else None

    channels: dict[tuple[object, ...], set[object]] = {}
    for item in items:
        if item.path.parent.name == "e2e" and param(item, "database_url") == "postgres":
            channels.setdefault(group(item), set()).add(param(item, "channel_kind"))
    chosen = {
        key: next((c for c in POSTGRES_CHANNEL_ORDER if c in found), None) for key, found in channels.items()
    }
    kept, dropped = [], []
    for item in items:
        key = group(item)
        on_postgres = item.path.parent.name == "e2e" and param(item, "database_url") == "postgres"
        if on_postgres and chosen.get(key) is not None and param(item, "channel_kind") != chosen[key]:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
