"""Transcripts: linking a chat with an invite code, consent per purpose, language, and the first menu."""

from __future__ import annotations

from bot.app import Application
from bot.domain.consent import CONSENT_TEXT_VERSION, Purpose
from bot.domain.entities import ParticipantStatus
from tests.fakes.clock import FakeClock
from tests.support.chats import Chats as Simulator
from tests.support.factories import Commune
from tests.support.records import audit_trail


async def _actions(app: Application) -> list[str]:
    return [entry.action for entry in await audit_trail(app)]


async def test_participant_links_gives_consent_and_sees_their_term(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    an = sim.chat("an")
    (await an.say("xin chào")).says("Đây là Đồng Hành, trợ lý tự động", "hãy gửi mã mời")

    typed = "/start " + commune.an_code.lower().replace("-", " ")
    said = await an.say(typed)
    said.says("Trợ lý này do tổ hỗ trợ của Phường Hà Đông vận hành", "hệ thống tự động, không phải người thật")
    said.says("1/3. Nhắc lịch và điểm danh hằng tháng").offers("Tôi đồng ý", "Tôi không đồng ý")
    said.never_says("Nguyễn Văn An", "cai nghiện", "ma túy")

    (await an.press("Tôi đồng ý")).says("2/3. Chia sẻ câu trả lời điểm danh")
    (await an.press("Tôi không đồng ý")).says("3/3. Kết nối tư vấn (không bắt buộc)")
    (await an.press("Tôi đồng ý")).says("Bạn muốn mình dùng ngôn ngữ nào?").offers("Tiếng Việt", "English")
    said = await an.press("Tiếng Việt")
    said.says("mọi thứ đã sẵn sàng", "Menu chính").offers("Thông tin của tôi", "Cài đặt")

    said = await an.press("Thông tin của tôi")
    said.says(
        "Xã/phường: Phường Hà Đông",
        "Thời gian quản lý: 12 tháng",
        "Ngày bắt đầu: 15/01/2026",
        "Dự kiến kết thúc: 15/01/2027",
        "Người đồng hành của bạn: Trần Thị Bình",
    )
    (await an.press("Về menu chính")).offers("Thông tin của tôi", "Cài đặt")

    async with app.store.transaction() as repos:
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.status is ParticipantStatus.ACTIVE
        assert await repos.consents.current(commune.an_id) == {
            Purpose.REMINDERS: True,
            Purpose.SHARE_WITH_CADRE: False,
            Purpose.REFERRALS: True,
        }
        history = await repos.consents.history(commune.an_id)
        assert len(history) == 3 and {row.text_version for row in history} == {CONSENT_TEXT_VERSION}
    actions = await _actions(app)
    assert actions.count("consent_recorded") == 3
    assert "chat_linked" in actions and "enrolment_completed" in actions
    assert "participant_viewed" in actions


async def test_a_used_code_does_not_link_a_second_chat(sim: Simulator, commune: Commune) -> None:
    await sim.chat("an").say(commune.an_code)
    said = await sim.chat("nguoi-la").say(commune.an_code)
    said.says("Mã này không đúng hoặc không còn hiệu lực", "Bạn còn 4 lần thử")
    said.never_says("Phường Hà Đông", "Nguyễn")


async def test_an_expired_code_gets_the_same_reply_as_a_wrong_one(
    sim: Simulator, commune: Commune, clock: FakeClock
) -> None:
    clock.advance(days=14, seconds=1)
    expired = await sim.chat("an").say(commune.an_code)
    wrong = await sim.chat("khac").say("ABCDE-FGHJK")
    assert expired.text == wrong.text
    expired.says("Mã này không đúng hoặc không còn hiệu lực")


async def test_a_new_code_revokes_the_old_one(sim: Simulator, commune: Commune, app: Application) -> None:
    async with app.store.transaction() as repos:
        fresh = await app.enrolment(repos).issue_participant_invite(commune.an_id)
    (await sim.chat("an").say(commune.an_code)).says("Mã này không đúng")
    (await sim.chat("an").say(fresh.code)).says("1/3. Nhắc lịch")


async def test_five_wrong_codes_lock_the_chat_for_an_hour(
    sim: Simulator, commune: Commune, clock: FakeClock, app: Application
) -> None:
    guesser = sim.chat("doan-ma")
    for left in (4, 3, 2, 1):
        (await guesser.say("ZZZZZ-ZZZZZ")).says(f"Bạn còn {left} lần thử")
    (await guesser.say("ZZZZZ-ZZZZZ")).says("nhập sai mã quá nhiều lần", "đợi đến 10:00")
    # Even the right code is not checked while locked: guessing gains nothing.
    (await guesser.say(commune.an_code)).says("nhập sai mã quá nhiều lần").never_says("1/3")
    # Another chat is not affected.
    (await sim.chat("binh").say(commune.binh_code)).says("1/3. Nhắc lịch")

    clock.advance(minutes=61)
    (await guesser.say(commune.an_code)).says("1/3. Nhắc lịch")
    assert "chat_locked" in await _actions(app)


async def test_declining_chat_reminders_unlinks_and_points_to_the_cadre(
    sim: Simulator, commune: Commune, app: Application
) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    said = await an.press("Tôi không đồng ý")
    said.says("sẽ không nhắn tin cho bạn nữa", "hủy kết nối", "Trần Thị Bình", "xin người đồng hành một mã mời mới")
    assert said[-1].buttons == []

    (await an.say("còn đó không?")).says("hãy gửi mã mời")
    async with app.store.transaction() as repos:
        assert await repos.identities.find(sim.channel, sim.external_id("an")) is None
        assert await repos.consents.current(commune.an_id) == {Purpose.REMINDERS: False}


async def test_declining_without_a_cadre_points_to_the_commune(sim: Simulator, commune: Commune) -> None:
    binh = sim.chat("binh")
    await binh.say(commune.binh_code)
    (await binh.press("Tôi không đồng ý")).says("tổ hỗ trợ tại Ủy ban nhân dân Phường Hà Đông")


async def test_english_speaker_onboards_in_english(sim: Simulator, commune: Commune) -> None:
    an = sim.chat("an")
    await an.say(commune.an_code)
    await an.press("Tôi đồng ý")
    await an.press("Tôi đồng ý")
    await an.press("Tôi đồng ý")
    said = await an.press("English")
    said.says("you are all set", "Main menu").offers("My information", "Settings")
    (await an.press("My information")).says("Term: 12 months", "Expected end date: 15 Jan 2027")


async def test_one_person_can_link_two_chats(sim: Simulator, commune: Commune, app: Application) -> None:
    await sim.chat("an-telegram").say(commune.an_code)
    async with app.store.transaction() as repos:
        fresh = await app.enrolment(repos).issue_participant_invite(commune.an_id)
    (await sim.chat("an-zalo").say(fresh.code)).says("1/3")
    async with app.store.transaction() as repos:
        chats = await repos.identities.for_channel(sim.channel)
    assert sorted(external for external, _ in chats) == sorted(
        [sim.external_id("an-telegram"), sim.external_id("an-zalo")]
    )
    assert {identity.participant_id for _, identity in chats} == {commune.an_id}


async def test_a_person_taken_off_the_list_during_onboarding_stays_off_it(
    sim: Simulator, commune: Commune, app: Application, clock: FakeClock
) -> None:
    """Removed from the list while still answering the consent questions: the next answer is told the record is no
    longer followed, and finishing onboarding can never put them back on the list (or out of the purge's reach)."""
    an = sim.chat("an")
    (await an.say(commune.an_code)).says("1/3. Nhắc lịch và điểm danh hằng tháng")
    async with app.store.transaction() as repos:
        await repos.participants.update(commune.an_id, status=ParticipantStatus.REMOVED, left_on=clock.now().date())
    said = await an.press("Tôi đồng ý")
    said.says("Hồ sơ của bạn không còn được theo dõi trên trợ lý này").never_says("2/3.")
    async with app.store.transaction() as repos:
        await repos.participants.update(commune.an_id, status=ParticipantStatus.ACTIVE)  # as onboarding's last step
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.status is ParticipantStatus.REMOVED
