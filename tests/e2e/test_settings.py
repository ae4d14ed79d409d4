"""Transcripts: a participant changes language, notification wording and consent in Cài đặt."""

from __future__ import annotations

import pytest

from bot.app import Application
from bot.domain.consent import Purpose
from bot.domain.entities import ParticipantStatus, Wording
from tests.support.chats import Chats as Simulator
from tests.support.chats import linked_participant
from tests.support.factories import Commune


async def test_switch_language_to_english_and_back(sim: Simulator, commune: Commune) -> None:
    an = await linked_participant(sim, commune.an_code)
    (await an.press("Cài đặt")).says("Cài đặt. Bạn muốn thay đổi gì?").offers(
        "Ngôn ngữ", "Quyền đồng ý", "Cách viết lời nhắc", "Về menu chính"
    )
    await an.press("Ngôn ngữ")
    (await an.press("English")).says("I will write to you in English from now on").offers("My information")
    await an.press("Settings")
    await an.press("Language")
    (await an.press("Tiếng Việt")).says("Từ giờ mình sẽ nhắn cho bạn bằng tiếng Việt").offers("Thông tin của tôi")


async def test_notification_wording_is_neutral_until_chosen(sim: Simulator, commune: Commune, app: Application) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.press("Cài đặt")
    said = await an.press("Cách viết lời nhắc")
    said.says("màn hình khóa", 'Kín đáo (nên dùng): "Bạn có lịch hẹn ngày 12/12."', "Hiện tại: kín đáo")
    (await an.press("Ghi rõ nội dung")).says("Lời nhắc sẽ ghi rõ lịch hẹn để làm gì")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.wording is Wording.EXPLICIT
    await an.press("Cài đặt")
    (await an.press("Cách viết lời nhắc")).says("Hiện tại: ghi rõ nội dung")
    (await an.press("Viết kín đáo")).says("Lời nhắc sẽ được viết kín đáo")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.wording is Wording.NEUTRAL


async def test_consent_can_be_changed_and_history_is_kept(sim: Simulator, commune: Commune, app: Application) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.press("Cài đặt")
    said = await an.press("Quyền đồng ý")
    said.says(
        "• Nhắc lịch và điểm danh qua tin nhắn: đã đồng ý",
        "• Chia sẻ câu trả lời điểm danh với người đồng hành: đã đồng ý",
        "• Kết nối tư vấn: đã đồng ý",
    )
    said = await an.press("Chia sẻ câu trả lời điểm danh với người đồng hành")  # its effects first
    said.says("người đồng hành sẽ không xem được câu trả lời điểm danh").offers("Có, rút lại", "Không, giữ nguyên")
    (await an.press("Không, giữ nguyên")).says("• Chia sẻ câu trả lời điểm danh với người đồng hành: đã đồng ý")
    await an.press("Chia sẻ câu trả lời điểm danh với người đồng hành")
    said = await an.press("Có, rút lại")
    said.says('Đã lưu: bạn rút lại đồng ý "Chia sẻ câu trả lời điểm danh với người đồng hành"')
    said.says("• Chia sẻ câu trả lời điểm danh với người đồng hành: chưa đồng ý")
    (await an.press("Chia sẻ câu trả lời điểm danh với người đồng hành")).says("Đã lưu: bạn đồng ý")
    async with app.store.transaction() as repos:
        assert (await repos.consents.current(commune.an_id))[Purpose.SHARE_WITH_CADRE] is True
        history = await repos.consents.history(commune.an_id)
        shares = [row.granted for row in history if row.purpose == Purpose.SHARE_WITH_CADRE.value]
        assert shares == [True, False, True]


async def test_withdrawing_reminders_asks_first_then_unlinks(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    an = await linked_participant(sim, commune.an_code)
    await an.press("Cài đặt")
    await an.press("Quyền đồng ý")
    said = await an.press("Nhắc lịch và điểm danh qua tin nhắn")
    said.says("Bạn có muốn rút lại không?").offers("Có, rút lại và hủy kết nối", "Không, giữ nguyên")
    (await an.press("Không, giữ nguyên")).says("• Nhắc lịch và điểm danh qua tin nhắn: đã đồng ý")

    await an.press("Nhắc lịch và điểm danh qua tin nhắn")
    said = await an.press("Có, rút lại và hủy kết nối")
    said.says("Mình sẽ không nhắn tin cho bạn nữa", "Trần Thị Bình")
    async with app.store.transaction() as repos:
        assert await repos.identities.find(sim.channel, sim.external_id("an")) is None
        assert (await repos.consents.current(commune.an_id))[Purpose.REMINDERS] is False
    (await an.say("alo")).says("hãy gửi mã mời")


async def test_withdrawing_in_one_chat_unlinks_every_chat_of_that_person(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    telegram = await linked_participant(sim, commune.an_code, "an-telegram")
    async with app.store.transaction() as repos:
        fresh = await app.enrolment(repos).issue_participant_invite(commune.an_id)
    zalo = await linked_participant(sim, fresh.code, "an-zalo")

    await telegram.press("Cài đặt")
    await telegram.press("Quyền đồng ý")
    await telegram.press("Nhắc lịch và điểm danh qua tin nhắn")
    await telegram.press("Có, rút lại và hủy kết nối")
    (await zalo.say("/menu")).says("hãy gửi mã mời")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.status is ParticipantStatus.ENROLLED


@pytest.mark.parametrize("channel_kind", ["simulator"], indirect=True)  # sends an action as it is stored
async def test_a_language_button_shown_by_the_previous_version_still_works(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    """Before the flows' reshaping the settings' language buttons were "lang:xx", like onboarding's: one still on
    screen (and stored as offered) changes the language, and never restarts the consent questions."""
    from bot.core.messages import Button

    an = await linked_participant(sim, commune.an_code)
    async with app.store.transaction() as repos:
        found = await repos.identities.find_for_message(sim.channel, sim.external_id("an"))
        assert found is not None
        await repos.conversations.offer(found.identity.id, [Button("English", "lang:en")])
    said = await an.press_action("lang:en")
    said.says("I will write to you in English from now on").offers("My information").never_says("1/3")
    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.language == "en" and person.status is ParticipantStatus.ACTIVE
