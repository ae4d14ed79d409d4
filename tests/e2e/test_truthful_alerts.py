"""Transcripts: every alert and reply says what actually happened — in Vietnamese, through Telegram and Zalo.

Who a crisis alert reached is decided when its messages are queued, and each text reports exactly that: the cadre
only if the bot could reach them (otherwise the commune officer, at once), the officer told why it came to them and
when the crisis message was written, and in a commune without a counselling point nobody is said to be a counsellor
who was told; the officers hear of the crisis at once, since nobody there can take the urgent referral.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app import Application
from tests.fakes.clock import FakeClock
from tests.support.chats import Chats, at_local, commune_without_a_point, link_participant, on_duty, open_card, tick_all
from tests.support.factories import Commune
from tests.support.texts import AN, REVEALING

pytestmark = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"], indirect=True)

CRISIS_AT_10 = f"Lúc 10:00 ngày 24/11/2026, {AN} đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng."
COUNSELLOR_ALERT = (
    "Khẩn:\n"
    f"{AN} có thể đang gặp khủng hoảng và đã được gửi các số điện thoại cấp cứu. "
    "Một yêu cầu tư vấn khẩn đang chờ xử lý.\n"
)


@pytest.mark.parametrize("cadre_state", ["no_chat", "unreachable", "inactive"])
async def test_a_cadre_the_bot_cannot_reach_is_not_said_to_be_alerted(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, cadre_state: str
) -> None:
    an, dung, cadre, officer = sim.chat("an"), sim.chat("dung"), sim.chat("binh"), sim.chat("cuong")
    await link_participant(an, commune.an_code)
    await dung.say(commune.counsellor_code)
    await officer.say(commune.officer_code)
    await on_duty(dung)
    if cadre_state != "no_chat":
        await cadre.say(commune.cadre_code)
        async with app.store.transaction() as repos:
            if cadre_state == "unreachable":  # the platform refused a message to her chat earlier
                assert await repos.identities.mark_unreachable(sim.channel, sim.external_id("binh")) is not None
            else:  # the account closed by hand, chats and queue left as they were
                await repos.staff.set_active(commune.cadre_id, False)
    clock.set(at_local(date(2026, 11, 24), 10, 0))
    reply = await an.say("em không muốn sống nữa")
    reply.says("\nMình đã báo cho tư vấn viên và cán bộ phụ trách xã/phường để họ liên hệ với bạn sớm nhất.\n")
    assert "người đồng hành" not in reply[0].text, reply.text  # the crisis reply (the menu after it names the role)
    to_dung, to_officer, to_cadre = await tick_all([dung, officer, cadre], app.scheduler.tick)
    to_dung.says(
        COUNSELLOR_ALERT
        + "Không liên lạc được với cán bộ đồng hành qua trợ lý; cán bộ phụ trách xã/phường đã được báo thay."
    ).never_says("Trần Thị Bình")
    to_officer.says(
        "Cần anh/chị quan tâm:\n"
        f"{CRISIS_AT_10} Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n"
        "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay.\n"
        "Không liên lạc được với cán bộ đồng hành (Trần Thị Bình) qua trợ lý "
        "nên việc này được chuyển thẳng đến anh/chị."
    ).offers("Tôi nhận xử lý", "Mở hồ sơ").never_says("2 ngày")
    assert to_cadre.text == ""
    # The same again: the reply names the same people (the episode's record), nothing new is raised.
    (await an.say("em muốn chết")).says("Mình đã báo cho tư vấn viên và cán bộ phụ trách xã/phường")


async def test_nobody_but_the_counsellor_could_be_alerted(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    """Bích has no cadre and the commune's officer has not linked a chat: the counsellor is the only one who knows,
    and is told so."""
    bich, dung = sim.chat("bich"), sim.chat("dung")
    await link_participant(bich, commune.binh_code)
    await dung.say(commune.counsellor_code)
    await on_duty(dung)
    clock.set(at_local(date(2026, 11, 24), 10, 0))
    reply = await bich.say("em muốn chết")
    reply.says("\nMình đã báo cho tư vấn viên để họ liên hệ với bạn ở đây sớm nhất.\n")
    (await dung.during(app.scheduler.tick)).says(
        "Đỗ Thị Bích (#2) có thể đang gặp khủng hoảng",
        "\nKhông báo được cho cán bộ đồng hành hay cán bộ phụ trách xã/phường nào qua trợ lý.",
    ).never_says("đã được báo thay")


async def test_the_officer_is_told_when_the_cadre_was_alerted_not_a_fixed_two_days(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    an, dung, cadre, officer = sim.chat("an"), sim.chat("dung"), sim.chat("binh"), sim.chat("cuong")
    await link_participant(an, commune.an_code)
    for chat, code in ((dung, commune.counsellor_code), (cadre, commune.cadre_code), (officer, commune.officer_code)):
        await chat.say(code)
    start = at_local(date(2026, 11, 24), 10, 0)
    clock.set(start)
    await an.say("em muốn chết")
    to_dung, to_cadre = await tick_all([dung, cadre], app.scheduler.tick)
    to_dung.says(COUNSELLOR_ALERT + "Cán bộ đồng hành (Trần Thị Bình) cũng đã được báo.")
    to_cadre.says(CRISIS_AT_10, "Anh/chị vui lòng đến gặp trực tiếp họ ngay")
    clock.set(start + timedelta(minutes=61))  # the cadre did not acknowledge within the hour a crisis allows
    late = await officer.during(app.scheduler.tick)
    late.says(
        f"{CRISIS_AT_10} Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n"
        "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay.\n"
        "Cán bộ đồng hành (Trần Thị Bình) đã được báo lúc 10:00 ngày 24/11/2026 nhưng chưa nhận xử lý."
    ).never_says("2 ngày")


async def test_a_commune_without_a_counselling_point(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    cuong, hai, pid = await commune_without_a_point(app, sim)
    who = f"Lý Văn Cường (#{pid})"
    clock.set(at_local(date(2026, 11, 24), 10, 0))
    await cuong.say("giúp")
    menu = await cuong.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    menu.says("Bạn cần hỗ trợ gì?\nXã/phường của bạn chưa có điểm tư vấn; yêu cầu của bạn sẽ được chuyển đến cán bộ "
              "phụ trách xã/phường.").never_says("Điểm tư vấn và")  # fmt: skip
    (await cuong.press("Học nghề")).says(
        "Xong. Xã/phường của bạn chưa có điểm tư vấn; yêu cầu của bạn đã được chuyển đến cán bộ phụ trách xã/phường."
    )
    await cuong.say("giúp")
    talk = await cuong.press("Nói chuyện với tư vấn viên")
    talk.says(
        "Xã/phường của bạn chưa có điểm tư vấn nên mình chưa thể kết nối bạn với tư vấn viên ở đây.\n"
        "Mình đã chuyển yêu cầu của bạn đến cán bộ phụ trách xã/phường để họ giúp bạn tìm tư vấn viên.\n\n"
        "Nếu bạn cần nói chuyện với ai đó ngay lúc này:\n☎ 115",
    ).never_says("Sẽ có người liên hệ", *REVEALING)
    notices = await hai.during(app.scheduler.tick)
    notices.says(
        f"{who} cần hỗ trợ: Học nghề. Xã/phường chưa có điểm tư vấn nên chưa ai khác được báo: anh/chị vui lòng trao "
        "đổi với họ, hoặc chuyển cho người có thể giúp.",
        f"{who} muốn nói chuyện với tư vấn viên, nhưng xã/phường chưa có điểm tư vấn nên chưa tư vấn viên nào được "
        "báo.",
    ).never_says("liên hệ với điểm tư vấn", "kết nối với điểm tư vấn")

    # A crisis in the night: nobody is said to be a counsellor who was told, and the officer hears of it at once.
    start = at_local(date(2026, 11, 24), 23, 0)
    clock.set(start)
    reply = await cuong.say("em muốn chết")
    reply.says("\nXã/phường của bạn chưa có điểm tư vấn.\nMình đã báo cho cán bộ phụ trách xã/phường.\n")
    reply.never_says("Mình đã báo cho tư vấn viên")
    now = await hai.during(app.scheduler.tick)
    now.says(
        "Khẩn:\n"
        f"Lúc 23:00 ngày 24/11/2026, {who} đã nhắn nội dung cho thấy có thể đang gặp khủng hoảng.\n"
        "Họ đã nhận được các số điện thoại cấp cứu và hỗ trợ.\n"
        "Xã/phường của họ chưa có điểm tư vấn nên không báo được cho tư vấn viên nào.\n"
        "Người này chưa có cán bộ đồng hành.\n"
        "Anh/chị vui lòng bảo đảm có người đến gặp trực tiếp họ ngay.",
        "Người này chưa được phân công cán bộ đồng hành nên việc này được chuyển thẳng đến anh/chị.",
    ).offers("Mở hồ sơ", "Tôi nhận xử lý")
    for minutes in (11, 21, 61):  # told once: not again when the wait for a counsellor runs out
        clock.set(start + timedelta(minutes=minutes))
        assert (await hai.during(app.scheduler.tick)).text == ""
    # The card does not say "waiting for a counsellor" for what no counsellor can take.
    card = await open_card(hai, who, "Danh sách xã/phường")
    card.says(
        "tư vấn — xã/phường chưa có điểm tư vấn nên chưa ai có thể nhận yêu cầu này qua trợ lý",
        "Học nghề — xã/phường chưa có điểm tư vấn nên chưa ai có thể nhận yêu cầu này qua trợ lý",
    ).never_says("đang chờ tư vấn viên")
