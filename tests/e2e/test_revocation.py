"""Transcripts of taking access away, in Vietnamese, through Telegram (buttons) and Zalo (typed numbers): a cadre's
account closed in the middle of recording a test result, and a participant's lost phone replaced by a new one.

The operations are the services the CLI (`aftercare staff deactivate`, `participant invite --revoke-chats`, `chat
unlink`) and later the console call; tests/cli/test_access.py runs the commands themselves.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Application
from bot.db.repositories.outbox import NewMessage
from bot.domain.planning import MessageKind
from bot.services.access import activate_staff, deactivate_staff, unlink_chats
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.at_rest import overwrite
from tests.support.chats import Chat, Chats, at_local, link_participant, open_card
from tests.support.factories import Commune
from tests.support.records import audit_trail, chat_state
from tests.support.texts import AN

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

OPERATOR = Operator(staff_id=None, os_user="ops")
WELCOME = "hãy gửi mã mời"  # the unlinked chat's greeting


async def test_cadre_deactivated_mid_flow_reaches_nothing_and_officers_are_told(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, clock: FakeClock
) -> None:
    cadre, officer = linked["cadre"], linked["officer"]
    await open_card(cadre)
    await cadre.press("Kết quả xét nghiệm")
    await cadre.press("Xét nghiệm ngoài lịch")
    (await cadre.press("Dương tính")).offers("Không rõ / bỏ qua")  # in the middle of recording a result
    async with app.store.transaction() as repos:  # a digest still queued for them
        await repos.outbox.add(
            [NewMessage("digest:test", MessageKind.DIGEST, clock.now(), staff_id=commune.cadre_id, payload={})]
        )
        done = await deactivate_staff(repos, commune.cadre_id, OPERATOR, clock.now())
    assert done.unlinked == 1 and done.cancelled >= 1 and done.people_without_cadre == [commune.an_id]

    pressed = await cadre.press("Không rõ / bỏ qua")  # the next button press: an unlinked chat's
    pressed.never_says(AN, "Nguyễn Văn An", "Kết quả", "xét nghiệm", "Ngày")
    typed = await cadre.say("12/12/2026")  # the next text: the greeting of a chat nobody linked
    typed.says(WELCOME).never_says(AN, "Nguyễn Văn An", "Trần Thị Bình")
    (await cadre.say("/menu")).never_says("Người tôi đồng hành", AN)
    async with app.store.transaction() as repos:
        assert await repos.fieldwork.test_results_of(commune.an_id) == []
        assert await repos.identities.count_of(staff_id=commune.cadre_id) == 0
    for name, kept in (("an", True), ("cuong", True), ("binh", False)):  # the cadre's chat went with its state
        assert (await chat_state(app, sim.channel, sim.external_id(name)) is not None) is kept, name

    told = await officer.during(app.scheduler.tick)  # the officers hear that An needs a new cadre
    told.says("Trần Thị Bình", "1").offers(AN)
    assert (await cadre.during(app.scheduler.tick)).text == ""  # nothing queued for the closed account goes out
    async with app.store.transaction() as repos:
        digest = await repos.outbox.by_key("digest:test")
        assert digest is not None and digest.status == "cancelled"
        person = await repos.participants.get(commune.an_id)
        assert person is not None and person.cadre_id == commune.cadre_id  # still listed; the officer reassigns
    [entry] = await audit_trail(app, "staff_deactivated")
    assert entry.actor_type == "operator" and entry.detail["os_user"] == "ops"
    assert entry.subject_id == commune.cadre_id and entry.detail["chats_unlinked"] == 1

    # Reopened: no chat comes back, and the old code stays dead; a new invite links a phone again.
    async with app.store.transaction() as repos:
        assert await activate_staff(repos, commune.cadre_id, OPERATOR) == 0
        invite = await app.enrolment(repos, OPERATOR).issue_staff_invite(commune.cadre_id)
    (await cadre.say(commune.cadre_code)).never_says("Xin chào Trần Thị Bình")
    (await cadre.say(invite.code)).says("Xin chào Trần Thị Bình").offers("Người tôi đồng hành")
    assert (await officer.during(app.scheduler.tick)).text == ""  # reactivated: the notice is not repeated


async def test_lost_phone_reinvite_revokes_the_old_chat_and_links_the_new_one(
    app: Application, sim: Chats, commune: Commune
) -> None:
    old, new = sim.chat("an"), sim.chat("an-moi")
    await link_participant(old, commune.an_code)
    (await old.press("Thông tin của tôi")).says("Phường Hà Đông")

    async with app.store.transaction() as repos:
        kept = await app.enrolment(repos, OPERATOR).issue_participant_invite(commune.an_id)
    assert (kept.linked_chats, kept.unlinked_chats) == (1, 0)  # without the flag the old phone keeps working
    (await old.say("/menu")).offers("Thông tin của tôi")

    async with app.store.transaction() as repos:
        invite = await app.enrolment(repos, OPERATOR).issue_participant_invite(commune.an_id, revoke_chats=True)
    assert (invite.linked_chats, invite.unlinked_chats) == (0, 1)

    (await old.say("xin chào")).says(WELCOME).never_says("Nguyễn Văn An", "Phường Hà Đông", "Menu chính")
    (await old.say(kept.code)).never_says("1/3")  # the code issued before the revoking one is dead too
    await link_participant(new, invite.code)
    (await new.press("Thông tin của tôi")).says("Phường Hà Đông", "Người đồng hành của bạn: Trần Thị Bình")
    (await old.say("/menu")).never_says("Thông tin của tôi")
    async with app.store.transaction() as repos:
        chats = await repos.identities.for_channel(sim.channel)
    assert [(external, chat.participant_id) for external, chat in chats] == [(sim.external_id("an-moi"), commune.an_id)]
    assert len(await audit_trail(app, "chat_unlinked")) == 1


async def test_unlink_one_channel_or_all_and_the_state_goes_with_it(
    app: Application, sim: Chats, commune: Commune
) -> None:
    an = sim.chat("an")
    await link_participant(an, commune.an_code)
    async with app.store.transaction() as repos:
        assert await unlink_chats(repos, OPERATOR, participant_id=commune.an_id, channel="simulator") == []
        unlinked = await unlink_chats(repos, OPERATOR, participant_id=commune.an_id, channel=sim.channel)
        person = await repos.participants.get(commune.an_id)
    assert unlinked == [sim.channel]
    assert person is not None and person.status.value == "enrolled"  # no chat: no reminders until a new link
    assert await chat_state(app, sim.channel, sim.external_id("an")) is None
    (await an.say("xin chào")).says(WELCOME)
    async with app.store.transaction() as repos:
        assert await repos.outbox.pending_reminders([commune.an_id]) == {}


# ---- what was waiting on a cadre reaches the officers at once --------------------------------------------------
CRISIS = "Lúc 22:30 ngày 10/12/2026, Nguyễn Văn An (#1) đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng."
IN_PERSON_NOW = "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay."  # the officer's line
# Why it came to the officer: English until the catalogs are filled, then the Vietnamese proposed with this change.
CLOSED = (
    "Tài khoản của cán bộ đồng hành (Trần Thị Bình) đã đóng trước khi họ nhận xử lý, nên việc này được chuyển đến "
    "anh/chị."
)


async def _crisis_at_night(app: Application, chats: dict[str, Chat], sim: Chats, commune: Commune,
                           clock: FakeClock) -> Chat:  # fmt: skip
    """The officer linked; An writes crisis words at 22:30: the cadre's alert is queued (not sent yet)."""
    officer = sim.chat("cuong")
    await officer.say(commune.officer_code)
    clock.set(at_local(date(2026, 12, 10), 22, 30))  # quiet hours: crisis alerts still go out at once
    (await chats["an"].say("mệt mỏi quá, chỉ muốn chết")).says("người đồng hành của bạn")
    async with app.store.transaction() as repos:
        queued = await repos.outbox.by_key("esc:1:cadre")
    assert queued is not None and queued.status == "pending" and queued.staff_id == commune.cadre_id
    return officer


async def _officer_escalations(app: Application, commune: Commune) -> list[str]:
    """Why each officer's escalation message about An was queued (one per officer and escalation)."""
    async with app.store.transaction() as repos:
        whys = []
        for escalation in reversed(await repos.escalations.recent_of(commune.an_id, limit=100)):
            for officer in await repos.escalations.officers_of(escalation.unit_id):
                queued = await repos.outbox.by_key(f"esc:{escalation.id}:officer:{officer}")
                whys += [queued.payload["why"]] if queued is not None else []
        return whys


@pytest.mark.parametrize("claimed", [False, True], ids=["pending", "claimed"])
async def test_a_crisis_alert_waiting_for_a_closed_cadre_reaches_the_officer_at_once(
    app: Application, chats: dict[str, Chat], sim: Chats, commune: Commune, clock: FakeClock, claimed: bool
) -> None:
    """Before: the cadre's queued alert was cancelled with the account and the officer heard only after the hour the
    cadre has to acknowledge a crisis. Claimed: a dispatcher had already taken the row when the account was closed;
    when its lease runs out the row is skipped (no chat) and the officer is not told twice."""
    officer = await _crisis_at_night(app, chats, sim, commune, clock)
    if claimed:
        claim = {"status": "sending", "leased_until": clock.now().replace(second=30), "attempts": 1}
        await overwrite(app, "outbox", claim, staff_id=commune.cadre_id)
    async with app.store.transaction() as repos:
        done = await deactivate_staff(repos, commune.cadre_id, OPERATOR, clock.now())
    assert done.alerts_to_officers == 1

    told = await officer.during(app.scheduler.tick)  # the same minute, in quiet hours
    told.says(CRISIS, IN_PERSON_NOW).offers("Tôi nhận xử lý", "Mở hồ sơ")
    told.says(CLOSED)
    told.says("Trần Thị Bình")  # and that An needs a new cadre
    assert (await chats["cadre"].during(app.scheduler.tick)).text == ""
    clock.advance(minutes=1)  # a claimed row's urgent lease has run out: it is taken again and skipped
    assert (await officer.during(app.scheduler.tick)).text == ""
    clock.advance(hours=1, minutes=1)  # past the cadre's hour to acknowledge: the officer is not told again
    (await officer.during(app.scheduler.tick)).never_says(CLOSED)  # (only that no counsellor took the referral)
    assert await _officer_escalations(app, commune) == ["cadre_closed"]
    async with app.store.transaction() as repos:
        cadre_row = await repos.outbox.by_key("esc:1:cadre")
        assert cadre_row is not None and cadre_row.status == "cancelled"
        assert cadre_row.last_error == ("no_chat" if claimed else "deactivated")
    [entry] = await audit_trail(app, "staff_deactivated")
    assert entry.detail["alerts_to_officers"] == 1


async def test_an_alert_for_a_cadre_whose_chat_was_unlinked_since_goes_to_the_officer_when_it_was_to_go_out(
    app: Application, chats: dict[str, Chat], sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    """The cadre's phone was unlinked (the account stays open) between queueing and sending: the dispatcher finds no
    chat for the cadre's alert and hands it to the officers at once, saying why."""
    officer = await _crisis_at_night(app, chats, sim, commune, clock)
    async with app.store.transaction() as repos:
        assert await unlink_chats(repos, OPERATOR, staff_id=commune.cadre_id) == [sim.channel]
    told = await officer.during(app.scheduler.tick)
    told.says(CRISIS, IN_PERSON_NOW, "Trần Thị Bình").offers("Tôi nhận xử lý")
    assert await _officer_escalations(app, commune) == ["cadre_unreachable"]  # "cannot be reached …, so it came to you"
    clock.advance(hours=1, minutes=1)
    await officer.during(app.scheduler.tick)
    assert await _officer_escalations(app, commune) == ["cadre_unreachable"]  # not told again after the hour
