"""The console in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python against the
real app served on a loopback port, with the Telegram channel talking to the fake Bot API (so a link the bot sends
can be followed). No browser is ever downloaded. Without Chromium these tests skip locally and FAIL when `CI` is set.
A failing test leaves a full-page screenshot in test-results/."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import Settings
from bot.runner import start_channels
from bot.web.app import build_web
from tests.fakes.telegram_api import FakeTelegram, running
from tests.support.config import TELEGRAM_TOKEN, TEST_KEY
from tests.support.server import bound_socket, serve

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
# As the machine's notes advise: no sandbox as root, and no background traffic to hosts a closed network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 740}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = "Debian's chromium is not installed (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def web_socket() -> Iterator[socket.socket]:
    sock = bound_socket()
    yield sock
    sock.close()


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with running(FakeTelegram(token=TELEGRAM_TOKEN)) as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, fake_telegram: FakeTelegram, web_socket: socket.socket) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path / "data",
        encryption_key=TEST_KEY,  # type: ignore[arg-type]
        telegram_token=TELEGRAM_TOKEN,  # type: ignore[arg-type]
        telegram_api_url=fake_telegram.base_url,
        telegram_rate_limit=1000,
        http_port=web_socket.getsockname()[1],  # the console's links and its Origin check name this server
    )


@pytest.fixture
async def site(app: Application, web_socket: socket.socket) -> AsyncIterator[str]:
    """The whole app on a loopback port, with the Telegram poller running; yields the base URL."""
    async with serve(build_web(app), web_socket) as base:
        stop = asyncio.Event()
        tasks = await start_channels(app, stop)
        try:
            yield base
        finally:
            stop.set()
            await asyncio.gather(*tasks)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    executable = _chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(executable), args=ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A desktop-sized page (an office PC's 1280×800), in Vietnamese; screenshot kept when the test fails."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    context.set_default_timeout(30_000)  # four workers on two cores: a PDF can take a while
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await _keep_screenshot(request, context)
        await context.close()


@pytest.fixture
async def phone(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A cheap Android phone's screen: 375 px wide, touch."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
    context.set_default_timeout(30_000)  # four workers on two cores: a PDF can take a while
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await _keep_screenshot(request, context)
        await context.close()


async def _keep_screenshot(request: pytest.FixtureRequest, context: Any) -> None:
    if not request.node.stash.get(FAILED, False):
        return
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    for index, opened in enumerate(context.pages):
        await opened.screenshot(path=str(SCREENSHOTS / f"{name}-{index}.png"), full_page=True)
