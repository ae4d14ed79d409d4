"""Golden transcripts of the main journeys, in Vietnamese: the whole exchange, both sides, compared with
tests/golden/<journey>.txt so that any change of wording shows as a diff (AFTERCARE_UPDATE_GOLDEN=1 rewrites them).

Telegram (by webhook) for the journeys, Zalo (numbered menus, typed numbers) for one; SQLite and PostgreSQL give the
same text. The assertions of each flow live in its own transcript tests; here the text itself is the assertion.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel
from bot.web.app import build_web
from tests.fakes.clock import FakeClock
from tests.support.chats import Chats, at_local
from tests.support.console import BASE, CSRF, login_link
from tests.support.factories import Commune, enrol_hanh
from tests.support.golden import RecordedChat, Transcript

TELEGRAM = pytest.mark.parametrize("channel_kind", ["telegram-webhook"], indirect=True)
ZALO = pytest.mark.parametrize("channel_kind", ["zalo-webhook"], indirect=True)


def transcript(name: str, sim: Chats, commune: Commune, clock: FakeClock) -> Transcript:
    """A transcript with the commune's invite codes hidden behind stable names."""
    script = Transcript(name, sim.channel, clock)
    for code, placeholder in (
        (commune.an_code, "{AN_CODE}"),
        (commune.binh_code, "{BICH_CODE}"),
        (commune.cadre_code, "{CADRE_CODE}"),
        (commune.officer_code, "{OFFICER_CODE}"),
        (commune.counsellor_code, "{COUNSELLOR_CODE}"),
    ):
        script.hide(code, placeholder)
    return script


async def consent_to_all(person: RecordedChat, code: str) -> None:
    """Linking as the transcripts below start it (recorded: it is part of what the person reads)."""
    await person.say(code)
    for _ in range(3):
        await person.press("Tôi đồng ý")
    await person.press("Tiếng Việt")


@TELEGRAM
async def test_participant_links_consents_chooses_a_language_and_sees_the_menu(
    sim: Chats, commune: Commune, clock: FakeClock
) -> None:
    script = transcript("participant_linking", sim, commune, clock)
    an = script.chat(sim.chat("an"), "An")
    await an.say("xin chào")
    await an.say(f"/start {commune.an_code}")
    await an.press("Tôi đồng ý")
    await an.press("Tôi không đồng ý")
    await an.press("Tôi đồng ý")
    await an.press("Tiếng Việt")
    await an.press("Thông tin của tôi")
    await an.press("Về menu chính")
    await an.press("Cài đặt")
    await an.press("Quyền đồng ý")
    await an.press("Về menu chính")
    script.check()


@TELEGRAM
async def test_monthly_check_in_by_chat(app: Application, sim: Chats, commune: Commune, clock: FakeClock) -> None:
    hanh = await enrol_hanh(app, date(2026, 11, 1), months=12, risk=RiskLevel.MEDIUM)
    script = transcript("monthly_checkin", sim, commune, clock)
    script.hide(hanh.code, "{HANH_CODE}")
    person, cadre = script.chat(sim.chat("hanh"), "Hạnh"), script.chat(sim.chat("binh"), "Bình")
    await consent_to_all(person, hanh.code)
    await cadre.say(commune.cadre_code)
    clock.set(at_local(date(2026, 12, 10)))
    await script.tick(app.scheduler.tick, person, cadre)
    await person.press("Điểm danh tháng này")
    await person.press("Bình thường")
    await person.press("Nhiều, khó kiềm chế")
    await person.press("Không")
    await person.press("Đang tìm việc")
    await person.press("Học nghề")
    await person.press("Xong")
    await person.press("Có, hãy gọi cho tôi")
    await person.press("Để lúc khác")
    await person.press("Điểm danh tháng này")
    await script.tick(app.scheduler.tick, person, cadre)
    script.check()


@TELEGRAM
async def test_help_menu_and_a_crisis_message(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, chats: dict[str, object]
) -> None:
    script = transcript("help_and_crisis", sim, commune, clock)
    an = script.chat(chats["an"], "An")  # type: ignore[arg-type]
    cadre = script.chat(chats["cadre"], "Bình")  # type: ignore[arg-type]
    counsellor = script.chat(chats["counsellor"], "Dung")  # type: ignore[arg-type]
    await an.say("giúp")
    await an.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    await an.press("Học nghề")
    clock.set(at_local(date(2026, 11, 23), 22, 30))
    await an.say("mệt mỏi quá, chỉ muốn chết")
    await script.tick(app.scheduler.tick, an, cadre, counsellor)
    await an.say("/menu")
    script.check()


@TELEGRAM
async def test_counselling_conversation_from_request_to_end(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, chats: dict[str, object]
) -> None:
    script = transcript("counselling_relay", sim, commune, clock)
    an = script.chat(chats["an"], "An")  # type: ignore[arg-type]
    dung = script.chat(chats["counsellor"], "Dung")  # type: ignore[arg-type]
    await dung.say("/menu")
    await dung.press("Bắt đầu ca trực")
    await an.say("giúp")
    await an.press("Nói chuyện với tư vấn viên")
    await an.say("Chào anh chị, dạo này em khó ngủ")
    await script.tick(app.scheduler.tick, an, dung)
    await dung.press("Xem yêu cầu")
    await dung.press("Tôi nhận")
    await script.tick(app.scheduler.tick, an, dung)
    clock.advance(minutes=3)
    await dung.say("Chào bạn, mình nghe đây. Bạn khó ngủ bao lâu rồi?")
    await script.tick(app.scheduler.tick, an, dung)
    await an.press("Xem tin nhắn")
    await an.say("Khoảng hai tuần rồi ạ")
    await script.tick(app.scheduler.tick, an, dung)
    await an.press("Kết thúc trò chuyện")
    await an.press("Có, kết thúc")
    await script.tick(app.scheduler.tick, an, dung)
    await dung.press("Xem yêu cầu")
    await dung.press("Đã tư vấn")
    script.check()


@TELEGRAM
async def test_cadre_records_a_test_result(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, linked: dict[str, object]
) -> None:
    script = transcript("cadre_test_result", sim, commune, clock)
    an = script.chat(linked["an"], "An")  # type: ignore[arg-type]
    cadre = script.chat(linked["cadre"], "Bình")  # type: ignore[arg-type]
    officer = script.chat(linked["officer"], "Cường")  # type: ignore[arg-type]
    script.note("12/12/2026: An, her cadre Bình and the officer Cường are linked")
    await cadre.say("/menu")
    await cadre.press("Người tôi đồng hành")
    await cadre.press("Nguyễn Văn An (#1)")
    await cadre.press("Kết quả xét nghiệm")
    await cadre.press("Xét nghiệm ngoài lịch")
    await cadre.press("Dương tính")
    await cadre.press("Không rõ / bỏ qua")
    await cadre.press("Hôm nay (12/12/2026)")
    await cadre.say("Trạm y tế phường Hà Đông")
    await cadre.press("Lưu kết quả")
    await script.tick(app.scheduler.tick, an, cadre, officer)
    await officer.press("Xem chi tiết")
    script.check()


@TELEGRAM
async def test_officer_assigns_a_cadre_and_confirms_a_report_at_the_desk(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, linked: dict[str, object]
) -> None:
    script = transcript("officer_assigns_and_desk", sim, commune, clock)
    cadre = script.chat(linked["cadre"], "Bình")  # type: ignore[arg-type]
    officer = script.chat(linked["officer"], "Cường")  # type: ignore[arg-type]
    script.note("12/12/2026: Bích has no cadre; the officer Cường gives her one")
    await officer.say("/menu")
    await officer.press("Danh sách xã/phường")
    await officer.press("Đỗ Thị Bích (#2)")
    await officer.press("Phân công cán bộ đồng hành")
    await officer.press("Trần Thị Bình")
    await script.tick(app.scheduler.tick, cadre, officer)
    await cadre.press("Mở hồ sơ")
    script.note("the cadre reports an absence seen in the community; the officer confirms it from the desk")
    await cadre.press("Báo vắng mặt / chuyển đi")
    await cadre.press("Vắng mặt ở địa phương")
    await cadre.say("01/12/2026 - 05/12/2026")
    await script.tick(app.scheduler.tick, cadre, officer)
    await officer.say("/menu")
    await officer.press("Chờ xác nhận")
    await officer.press("Đỗ Thị Bích (#2): vắng mặt")
    await officer.press("Xác nhận")
    script.check()


@TELEGRAM
async def test_a_person_writes_to_their_cadre(
    app: Application, sim: Chats, commune: Commune, clock: FakeClock, chats: dict[str, object]
) -> None:
    script = transcript("cadre_relay", sim, commune, clock)
    an = script.chat(chats["an"], "An")  # type: ignore[arg-type]
    binh = script.chat(chats["cadre"], "Bình")  # type: ignore[arg-type]
    await an.say("/menu")
    await an.press("Nhắn người đồng hành")
    await an.say("Chào chị, tuần này em đi làm ca đêm nên không lên phường được")
    await script.tick(app.scheduler.tick, an, binh)
    await binh.press("Trả lời")
    await binh.say("Không sao em, tuần sau mình hẹn lại nhé.")
    await script.tick(app.scheduler.tick, an, binh)
    await an.press("Xem tin nhắn")
    await an.press("Kết thúc trò chuyện")
    await an.press("Có, kết thúc")
    await script.tick(app.scheduler.tick, an, binh)
    script.check()


@ZALO
async def test_zalo_numbered_menus_linking_settings_and_help(sim: Chats, commune: Commune, clock: FakeClock) -> None:
    script = transcript("zalo_numbered_menus", sim, commune, clock)
    an = script.chat(sim.chat("an"), "An")
    await an.say(commune.an_code)
    await an.say("1")
    await an.say("２")  # a full-width digit from a Vietnamese keyboard
    await an.say("tôi đồng ý")  # the option's words
    await an.press("Tiếng Việt")
    await an.press("Thông tin của tôi")
    await an.say("/menu")
    await an.press("Cài đặt")
    await an.say("9")  # not on the menu
    await an.press("Cách viết lời nhắc")
    await an.send_media("sticker")
    await an.say("giúp")
    script.check()


async def _officer_decides(app: Application, approve: bool, reason: str = "") -> None:
    """The commune's officer decides the oldest pending request in the console (signed in by a one-time link)."""
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        officer = (await repos.escalations.officers_of(unit.id))[0]
        pending = await repos.data_requests.of_unit(unit.id, pending=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as client:
        assert (await client.post(await login_link(app, officer), headers={"origin": BASE})).status_code == 303
        found = CSRF.search((await client.get("/console/requests")).text)
        assert found is not None
        action = "approve" if approve else "decline"
        form = {"csrf": found.group(1), "reason": reason}
        done = await client.post(f"/console/requests/{pending[0].id}/{action}", data=form, headers={"origin": BASE})
        assert done.status_code == 303


async def _my_data_journey(app: Application, sim: Chats, commune: Commune, clock: FakeClock, name: str) -> None:
    script = transcript(name, sim, commune, clock)
    if app.settings.public_url:
        script.hide(app.settings.public_url, "{PUBLIC_URL}")
    an, officer = script.chat(sim.chat("an"), "An"), script.chat(sim.chat("cuong"), "Cường")
    await consent_to_all(an, commune.an_code)
    await officer.say(commune.officer_code)
    clock.set(at_local(date(2026, 12, 12)))
    await script.tick(app.scheduler.tick, an, officer)
    await an.say("/menu")
    await an.press("Thông tin của tôi")
    await an.press("Dữ liệu của tôi")
    await an.press("Những gì được lưu về tôi")
    await an.press("Dữ liệu của tôi")
    await an.press("Nhận bản sao dữ liệu")
    await an.press("Có, gửi đi")
    await script.tick(app.scheduler.tick, an, officer)
    script.note("Cường duyệt yêu cầu trong trang quản lý (/console/requests)")
    await _officer_decides(app, approve=True)
    said = await script.tick(app.scheduler.tick, an, officer)
    link = re.search(r"/copy/([A-Za-z0-9_-]{43})", said[0].text)
    if link is not None:
        script.hide(link.group(1), "{TOKEN}")
    await an.say("/menu")
    await an.press("Thông tin của tôi")
    await an.press("Dữ liệu của tôi")
    await an.press("Đề nghị sửa thông tin")
    await an.say("Địa chỉ của tôi là số 5 ngõ 12 Quang Trung, không phải số 15.")
    await script.tick(app.scheduler.tick, an, officer)
    script.note("Cường từ chối: thông tin đã đúng")
    await _officer_decides(app, approve=False, reason="no_change")
    await script.tick(app.scheduler.tick, an, officer)
    await an.say("/menu")
    await an.press("Thông tin của tôi")
    await an.press("Dữ liệu của tôi")
    await an.press("Rút lại đồng ý")
    await an.press("Kết nối tư vấn")
    await an.press("Có, rút lại")
    script.check()


@TELEGRAM
async def test_my_data_on_telegram(app: Application, sim: Chats, commune: Commune, clock: FakeClock) -> None:
    await _my_data_journey(app, sim, commune, clock, "my_data_telegram")


@ZALO
async def test_my_data_on_zalo(app: Application, sim: Chats, commune: Commune, clock: FakeClock) -> None:
    await _my_data_journey(app, sim, commune, clock, "my_data_zalo")
