"""Someone with write access to the database moves sealed values between rows: the assistant refuses them and says
so (issue 13, defect 7); and no chat platform id is stored in the clear anywhere.

Through Telegram (buttons) and Zalo (numbered menus), with the tampering done in SQL the way an attacker would.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.domain.fieldwork import SubstanceGroup, TestOutcome
from tests.support.at_rest import every_value, overwrite, swap
from tests.support.chats import Chat, Chats, link_participant, open_card
from tests.support.factories import Commune
from tests.support.records import audit_trail
from tests.support.texts import AN

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
    await swap(app, "test_result", "result_enc", an.id, bich.id)
    card = await open_card(cadre)
    card.says(UNREADABLE)
    card.never_says("dương tính", "âm tính", "Nguyễn Văn An")
    events = await audit_trail(app, "sealed_value_rejected")
    assert [(e.outcome, e.detail["column"]) for e in events] == [("denied", "test_result.result")]
    assert "Trạm" not in str(events[0].detail) and "positive" not in str(events[0].detail)  # where, never what

    # Re-pointing the row at An instead (its clear participant_id) does not work either.
    await swap(app, "test_result", "result_enc", an.id, bich.id)  # put back
    await overwrite(app, "test_result", {"participant_id": commune.an_id}, id=bich.id)
    card = await open_card(cadre)
    card.says(UNREADABLE)
    card.never_says("dương tính")
    # The rest of the cadre's workspace still works.
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says(AN)


async def test_names_swapped_between_two_people_are_not_shown(app: Application, sim: Chats, commune: Commune) -> None:
    an_chat = sim.chat("an")
    await link_participant(an_chat, commune.an_code)
    cadre = await _cadre(sim, commune)
    await swap(app, "participant", "name_enc", commune.an_id, commune.binh_id)
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
    stored = await every_value(app)
    assert [f"{table}.{column}" for table, column, value in stored if any(i in str(value) for i in ids)] == []
    assert any(table == "audit_event" for table, _, _ in stored)  # the scan did read a filled database
