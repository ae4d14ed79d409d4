"""Someone with write access to the database moves sealed values between rows: the assistant refuses them and says
so (issue 13, defect 7); and no chat platform id is stored in the clear anywhere.

Through Telegram (buttons) and Zalo (numbered menus), with the tampering done in SQL the way an attacker would.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from sqlmodel import SQLModel

from bot.app import Application
from bot.db.models import AuditEventRow, ParticipantRow, TestResultRow
from bot.domain.fieldwork import SubstanceGroup, TestOutcome
from tests.e2e.conftest import Chat, Chats, Commune
from tests.e2e.helpers import count_rows
from tests.e2e.test_cadre_workspace import AN, open_card
from tests.e2e.test_schedule import link_participant

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

BICH = "Đỗ Thị Bích"
# What a reader sees instead of a moved value.
UNREADABLE = (
    "Một phần hồ sơ này không đọc được: dữ liệu đã bị thay đổi bên ngoài trợ lý nên không được hiển thị. "
    "Vui lòng báo cho Ủy ban nhân dân xã/phường."
)


async def _cadre(sim: Chats, commune: Commune) -> Chat:
    cadre = sim.chat("binh")
    (await cadre.say(commune.cadre_code)).says("Xin chào Trần Thị Bình")
    return cadre


async def _swap(app: Application, table: type[SQLModel], column: str, first: int, second: int) -> None:
    """Exchange one column's stored values between two rows, as `UPDATE … SET` by hand would."""
    async with app.store.transaction() as repos:
        col = getattr(table, column)
        pk = table.id  # type: ignore[attr-defined]
        a = (await repos.session.execute(select(col).where(pk == first))).scalar_one()
        b = (await repos.session.execute(select(col).where(pk == second))).scalar_one()
        await repos.session.execute(update(table).where(pk == first).values({column: b}))
        await repos.session.execute(update(table).where(pk == second).values({column: a}))


async def test_test_results_swapped_between_two_people_are_refused(
    app: Application, sim: Chats, commune: Commune
) -> None:
    cadre = await _cadre(sim, commune)
    async with app.store.transaction() as repos:
        an = await repos.fieldwork.add_test_result(
            commune.an_id, None, TestOutcome.NEGATIVE, None, "Trạm y tế", date(2026, 11, 2), commune.cadre_id
        )
        bich = await repos.fieldwork.add_test_result(
            commune.binh_id, None, TestOutcome.POSITIVE, SubstanceGroup.OPIOIDS, "Trạm y tế", date(2026, 11, 3),
            commune.cadre_id,
        )  # fmt: skip
    (await open_card(cadre)).says(AN, "âm tính").never_says("dương tính")

    # Bích's positive result moved into An's row (and An's into Bích's): An's card does not show it as An's.
    await _swap(app, TestResultRow, "result_enc", an.id, bich.id)
    card = await open_card(cadre)
    card.says(UNREADABLE)
    card.never_says("dương tính", "âm tính", "Nguyễn Văn An")
    async with app.store.transaction() as repos:
        events = (
            await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "sealed_value_rejected"))
        ).scalars().all()
    assert [(e.outcome, e.detail["column"]) for e in events] == [("denied", "test_result.result")]
    assert "Trạm" not in str(events[0].detail) and "positive" not in str(events[0].detail)  # where, never what

    # Re-pointing the row at An instead (its clear participant_id) does not work either.
    await _swap(app, TestResultRow, "result_enc", an.id, bich.id)  # put back
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(TestResultRow).where(TestResultRow.id == bich.id).values(participant_id=commune.an_id)
        )
    card = await open_card(cadre)
    card.says(UNREADABLE)
    card.never_says("dương tính")
    # The rest of the cadre's workspace still works.
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says(AN)


async def test_names_swapped_between_two_people_are_not_shown(
    app: Application, sim: Chats, commune: Commune
) -> None:
    an_chat = sim.chat("an")
    await link_participant(an_chat, commune.an_code)
    cadre = await _cadre(sim, commune)
    await _swap(app, ParticipantRow, "name_enc", commune.an_id, commune.binh_id)
    async with app.store.transaction() as repos:
        an, bich = await repos.participants.get(commune.an_id), await repos.participants.get(commune.binh_id)
    assert an is not None and bich is not None
    assert (an.name, bich.name) == (f"⚠ #{commune.an_id}", f"⚠ #{commune.binh_id}")  # neither gets the other's name
    await cadre.say("/menu")
    listing = await cadre.press("Người tôi đồng hành")
    listing.says(f"⚠ #{commune.an_id}").never_says(BICH, "Nguyễn Văn An")
    # The person's own chat keeps working; no name is put in their mouth.
    (await an_chat.say("/menu")).offers("Điểm danh tháng này").never_says(BICH)


async def test_no_platform_id_is_stored_in_the_clear(app: Application, sim: Chats, commune: Commune) -> None:
    """Link a person and a cadre, walk some flows, then read every column of every table as text."""
    an_chat = sim.chat("an")
    await link_participant(an_chat, commune.an_code)
    cadre = await _cadre(sim, commune)
    await open_card(cadre)
    await an_chat.say("/menu")
    ids = {sim.external_id("an"), sim.external_id("binh")}
    async with app.store.transaction() as repos:
        assert await repos.identities.find(sim.channel, sim.external_id("an")) is not None
    found: list[str] = []
    async with app.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is not None and any(i in str(value) for i in ids):
                        found.append(f"{table.name}.{column}")
    assert found == []
    assert await count_rows(app, AuditEventRow) > 0  # the scan did read a filled database
