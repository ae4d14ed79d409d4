"""The console over HTTP: the real ASGI app (`bot.web.app.build_web`) behind an httpx client, on SQLite and
PostgreSQL; `sign_in` goes through a real one-time link (issued by the service the bot and the CLI use)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.app import Application
from bot.domain.entities import Role
from bot.web.app import build_web
from tests.support.console import BASE, CSRF, Browser, SignIn, login_link
from tests.support.factories import add_hanoi, add_ward


@pytest.fixture
async def browsers(app: Application) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    web = build_web(app)
    made: list[httpx.AsyncClient] = []

    def new() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url=BASE)
        made.append(client)
        return client

    yield new
    for client in made:
        await client.aclose()


@pytest.fixture
def sign_in(app: Application, browsers: Callable[[], httpx.AsyncClient]) -> SignIn:
    async def go(staff_id: int) -> Browser:
        client = browsers()
        path = await login_link(app, staff_id)
        spent = await client.post(path, headers={"origin": BASE})
        assert spent.status_code == 303, spent.text
        home = await client.get("/console/")
        assert home.status_code == 200, home.text
        found = CSRF.search(home.text)
        assert found is not None
        return Browser(client, found.group(1))

    return go


@pytest.fixture
async def hanoi(app: Application) -> dict[str, int]:
    """Thành phố Hà Nội with Phường Hà Đông (HD) and Phường Kiến Hưng (KH); an officer, a cadre, a counsellor of HD,
    an officer of KH and an admin of the province: their ids by name."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await add_ward(service, "KH", "Phường Kiến Hưng")
        point = await service.add_point("HD", "Điểm tư vấn Hà Đông", "12 Quang Trung", "024 3382 0000", "")
        ids = {
            "officer": (await service.add_staff("Lê Văn Phụ Trách", Role.OFFICER, "HD", None, "vi"))[0].id,
            "cadre": (await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi"))[0].id,
            "counsellor": (await service.add_staff("Phạm Tư Vấn", Role.COUNSELLOR, "HD", point.id, "vi"))[0].id,
            "other_officer": (await service.add_staff("Đỗ Kiến Hưng", Role.OFFICER, "KH", None, "vi"))[0].id,
            "admin": (await service.add_staff("Nguyễn Quản Trị", Role.ADMIN, "HN", None, "vi"))[0].id,
        }
    return ids
