"""Journeys through the console in Chromium, in Vietnamese, the way the people who use it go: the first admin, an
officer preparing the commune's list, a cadre on a phone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.config import Settings
from tests.support.cli import cli_env, ok_json


def operator_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The shell of the server's operator: the same database and the same web address as the running app."""
    return cli_env(settings.database_url, tmp_path / "data") | {"AFTERCARE_HTTP_PORT": str(settings.http_port)}


async def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    return await asyncio.to_thread(ok_json, env, *args)  # the CLI runs its own event loop, as in a shell


async def test_the_first_admin_signs_in_with_the_link_the_cli_prints(
    app: Application, site: str, page: Any, settings: Settings, tmp_path: Path
) -> None:
    env = operator_env(settings, tmp_path)
    await cli(env, "unit", "add", "--code", "HN", "--name", "Thành phố Hà Nội")
    admin = await cli(env, "staff", "add", "--name", "Nguyễn Quản Trị", "--role", "admin", "--unit", "HN")
    link = await cli(env, "staff", "login-link", "--id", str(admin["id"]))
    assert link["url"].startswith(site + "/console/login/")

    await page.goto(link["url"])
    await page.get_by_role("heading", name="Đăng nhập trang quản lý").wait_for()
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Tổng quan").wait_for()
    assert await page.get_by_role("link", name="Nhật ký truy cập").is_visible()

    await page.goto(link["url"])  # the same link again: spent
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Đường dẫn đăng nhập này không dùng được").wait_for()
