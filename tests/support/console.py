"""The console over HTTP, shared by its tests: the console's origin under the test settings, a browser's cookie jar
with its CSRF token, and a real one-time login link (issued by the service the bot and the CLI use)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bot.app import Application
from bot.services import signin

BASE = "http://127.0.0.1:8080"  # the console's own origin under the test settings (AFTERCARE_HTTP_HOST/PORT)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """One browser's cookie jar against the console; `csrf` is filled by sign_in."""

    client: httpx.AsyncClient
    csrf: str = ""

    async def post(self, url: str, data: dict[str, object] | None = None, **kwargs: object) -> httpx.Response:
        """A form POST as a browser sends it: the page's CSRF token and this origin (override either to test)."""
        form = {"csrf": self.csrf, **(data or {})}
        headers = {"origin": BASE, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return await self.client.post(url, data=form, headers=headers, **kwargs)  # type: ignore[arg-type]


SignIn = Callable[[int], Awaitable[Browser]]


async def login_link(app: Application, staff_id: int) -> str:
    """A fresh one-time link's path (/console/login/<token>) for that staff member."""
    async with app.store.transaction() as repos:
        link = await signin.issue_link(repos, app.store.keyring.token_key, app.clock, staff_id, BASE)
    return link.url.removeprefix(BASE)
