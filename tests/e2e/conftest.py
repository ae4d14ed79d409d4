"""Transcripts run through every channel: the simulator, Telegram by long polling and Telegram by webhook."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from bot.app import Application
from bot.config import Settings
from bot.domain.entities import RiskLevel, Role
from bot.runner import start_channels
from bot.web.app import build_web
from tests.conftest import TEST_KEY
from tests.e2e.simulator_client import Said, Simulator, bound_socket, serve
from tests.e2e.telegram_client import TelegramChats
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.telegram_api import FakeTelegram, running
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import running as running_zalo

TELEGRAM_TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"
ZALO_TOKEN = "1234567890:zalo-test-token-for-the-fake-platform"
CHANNELS = ["simulator", "telegram-polling", "telegram-webhook", "zalo-polling", "zalo-webhook"]


class Chat(Protocol):
    async def say(self, text: str) -> Said: ...
    async def press(self, label: str) -> Said: ...
    async def press_action(self, action: str) -> Said: ...
    async def send_media(self, kind: str) -> Said: ...
    async def say_in_group(self, text: str) -> Said: ...
    async def during(self, work: Callable[[], Awaitable[object]]) -> Said: ...


class Chats(Protocol):
    channel: str

    def chat(self, name: str) -> Chat: ...
    def external_id(self, name: str) -> str: ...


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
    async with serve(build_web(app), web_socket) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
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


@dataclass
class Commune:
    """A seeded commune: one province, one ward, a cadre, an officer, a counsellor and two participants."""

    cadre_id: int
    cadre_code: str
    officer_code: str
    counsellor_code: str
    admin_code: str
    an_id: int
    an_code: str
    binh_id: int
    binh_code: str


@pytest.fixture
async def commune(app: Application) -> Commune:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("HN", "Thành phố Hà Nội", None)
        await service.add_unit("HD", "Phường Hà Đông", "HN")
        point = await service.add_point(
            "HD",
            "Điểm tư vấn Hà Đông",
            "12 Quang Trung",
            "024 3382 0000",
            "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00",
        )
        cadre, cadre_invite = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        _officer, officer_invite = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        _counsellor, counsellor_invite = await service.add_staff("Phạm Thu Dung", Role.COUNSELLOR, "HD", point.id, "vi")
        _admin, admin_invite = await service.add_staff("Hoàng Minh Em", Role.ADMIN, "HN", None, "vi")
        an, an_invite = await service.add_participant(
            name="Nguyễn Văn An",
            unit_code="HD",
            start=date(2026, 1, 15),
            term_months=12,
            cadre_id=cadre.id,
            risk=RiskLevel.MEDIUM,
            language="vi",
        )
        binh, binh_invite = await service.add_participant(
            name="Đỗ Thị Bích",
            unit_code="HD",
            start=date(2025, 8, 31),
            term_months=24,
            cadre_id=None,
            risk=RiskLevel.HIGH,
            language="vi",
        )
    return Commune(
        cadre_id=cadre.id,
        cadre_code=cadre_invite.code,
        officer_code=officer_invite.code,
        counsellor_code=counsellor_invite.code,
        admin_code=admin_invite.code,
        an_id=an.id,
        an_code=an_invite.code,
        binh_id=binh.id,
        binh_code=binh_invite.code,
    )


@pytest.fixture
async def chats(sim: Chats, commune: Commune) -> dict[str, Chat]:
    """An (linked, consenting), her cadre Bình and the counsellor Dung, linked."""
    people = {"an": sim.chat("an"), "cadre": sim.chat("binh"), "counsellor": sim.chat("dung")}
    await link_participant(people["an"], commune.an_code)
    await people["cadre"].say(commune.cadre_code)
    await people["counsellor"].say(commune.counsellor_code)
    return people


async def link_participant(chat: Chat, code: str) -> None:
    """Link with the invite code, consent to every purpose, choose Vietnamese."""
    await chat.say(code)
    for _ in range(3):
        await chat.press("Tôi đồng ý")
    (await chat.press("Tiếng Việt")).offers("Điểm danh tháng này", "Lịch hẹn của tôi")
