from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel, Role
from bot.web.app import build_web
from tests.e2e.simulator_client import Simulator, serve


@pytest.fixture
async def sim(app: Application) -> AsyncIterator[Simulator]:
    async with serve(build_web(app)) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        yield Simulator(http)


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
        point = await service.add_point("HD", "Điểm tư vấn Hà Đông", "12 Quang Trung", "024 3382 0000", "T2–T6")
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
