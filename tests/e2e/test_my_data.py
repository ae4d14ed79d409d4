"""“Dữ liệu của tôi” through Telegram and Zalo (real HTTP fakes): what is kept, a copy approved by the commune's
officer in the console and delivered in the chat (Telegram: a PDF and the JSON by sendDocument; Zalo: a one-time
link served by the web app), a correction, a consent withdrawn after its effects are shown — and the bad inputs."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import Application
from bot.db.repositories.data_requests import DataRequest
from bot.domain.consent import Purpose
from bot.web.app import build_web
from tests.e2e.simulator_client import Simulator
from tests.e2e.telegram_client import TelegramChats
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, UploadedFile
from tests.fakes.telegram_api import Fault as TelegramFault
from tests.support.at_rest import rows
from tests.support.chats import Chat, Chats, answer_checkin
from tests.support.console import BASE, CSRF, Browser, login_link
from tests.support.factories import Commune
from tests.support.pdfs import text as pdf_text
from tests.support.records import audit_trail, audited
from tests.support.texts import REVEALING, STALE

BOTH = pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])

LINK = re.compile(r"(http://[^\s]+/copy/[A-Za-z0-9_-]{43})")


@pytest.fixture
async def console(app: Application) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as client:
        yield client


async def officer_id(app: Application) -> int:
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        return (await repos.escalations.officers_of(unit.id))[0]


async def signed_in(app: Application, client: httpx.AsyncClient, staff_id: int) -> Browser:
    spent = await client.post(await login_link(app, staff_id), headers={"origin": BASE})
    assert spent.status_code == 303, spent.text
    found = CSRF.search((await client.get("/console/")).text)
    assert found is not None
    return Browser(client, found.group(1))


async def requests_of(app: Application, participant_id: int) -> list[DataRequest]:
    async with app.store.transaction() as repos:
        return await repos.data_requests.of_participant(participant_id)


async def my_data(an: Chat) -> None:
    await an.say("/menu")
    await an.press("Thông tin của tôi")
    (await an.press("Dữ liệu của tôi")).says("Bạn có quyền biết").offers(
        "Những gì được lưu về tôi", "Nhận bản sao dữ liệu", "Đề nghị sửa thông tin", "Rút lại đồng ý"
    )


@BOTH
async def test_a_copy_of_my_data_approved_in_the_console_arrives_in_the_chat(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient,
    fake_telegram: FakeTelegram | None, channel_kind: str,
) -> None:  # fmt: skip
    an, officer = linked["an"], linked["officer"]
    await an.say("/menu")
    await an.press("Điểm danh tháng này")
    await answer_checkin(an)

    await my_data(an)
    kept = await an.press("Những gì được lưu về tôi")
    kept.says(
        "Những gì được lưu về bạn, và ai được xem:",
        "Kiểm diện trực tiếp, kết quả các lần kiểm tra",
        "Lưu bao lâu: trong thời gian bạn có tên trong danh sách, và 365 ngày sau khi ra khỏi danh sách",
        "Sự đồng ý của bạn hiện nay:",
        "Nhắc lịch và điểm danh qua tin nhắn: đồng ý ngày 23/11/2026",
    )
    await an.press("Dữ liệu của tôi")
    asked = await an.press("Nhận bản sao dữ liệu")
    asked.says("trả lời trong vòng 3 ngày")
    asked.says("Khi được duyệt, bản sao sẽ được gửi" if fake_telegram else "một liên kết dùng một lần")
    (await an.press("Có, gửi đi")).says("Đã gửi. Cán bộ phụ trách của xã sẽ trả lời trước ngày 15/12/2026")

    # The officer hears of it (neutral first line) and decides in the console.
    told = await officer.during(app.scheduler.tick)
    told.says("Có một yêu cầu mới đang chờ anh/chị trong trang quản lý.", "Nguyễn Văn An (#1) đề nghị bản sao dữ liệu")
    browser = await signed_in(app, console, await officer_id(app))
    page = await console.get("/console/requests")
    assert page.status_code == 200 and "Nguyễn Văn An" in page.text and "Hạn xử lý: 15/12/2026" in page.text
    assert "Ngày đề nghị 12/12/2026" in page.text
    request_id = (await requests_of(app, commune.an_id))[0].id
    approved = await browser.post(f"/console/requests/{request_id}/approve")
    assert approved.status_code == 303
    assert (await browser.post(f"/console/requests/{request_id}/approve")).status_code == 303  # decided once
    assert await audited(app, "data_request_decided", subject_id=commune.an_id) == 1

    delivered = await an.during(app.scheduler.tick)
    delivered.says("Bản sao dữ liệu của bạn đã sẵn sàng.").never_says(*REVEALING)
    if fake_telegram is not None:
        assert isinstance(sim, TelegramChats)
        documents = fake_telegram.sent("sendDocument", sim.user_id("an"))
        files = {c.params["document"].filename: c.params["document"] for c in documents}
        assert all(isinstance(f, UploadedFile) for f in files.values()) and len(files) == 2
        pdf = next(f.content for name, f in files.items() if name.endswith(".pdf"))
        data = json.loads(next(f.content for name, f in files.items() if name.endswith(".json")))
    else:
        link = LINK.search(delivered.text)
        assert link is not None, delivered.text
        async with httpx.AsyncClient() as browser_of_an:
            shown = await browser_of_an.get(link.group(1))  # a link previewer's GET spends nothing
            assert shown.status_code == 200 and "Tải bản sao về" in shown.text
            got = await browser_of_an.post(link.group(1))
            assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
            again = await browser_of_an.post(link.group(1))
            assert again.status_code == 410 and "đã được dùng" in again.text
        archive = zipfile.ZipFile(io.BytesIO(got.content))
        pdf = next(archive.read(n) for n in archive.namelist() if n.endswith(".pdf"))
        data = json.loads(next(archive.read(n) for n in archive.namelist() if n.endswith(".json")))
        assert await audited(app, "data_copy_link_refused", outcome="denied") == 1
    written = " ".join(pdf_text(pdf).split())  # words a table cell wrapped, joined again
    assert "BẢN SAO DỮ LIỆU CÁ NHÂN" in written and "Nguyễn Văn An" in written
    assert "Điểm danh hằng tháng" in written and "10/12/2026 Đã thực hiện 12/12/2026" in written  # done above
    assert "Công việc: Đang đi làm" in written and ("Telegram" in written or "Zalo" in written)
    assert data["person"]["name"] == "Nguyễn Văn An" and data["format"] == "dong-hanh/personal-data/v1"
    assert {"checkins", "consents", "test_results", "notes", "conversations", "chats"} <= set(data)
    assert any(c["status"] == "done" and c["answers"] for c in data["checkins"])
    assert [c["channel"] for c in data["chats"]] == [channel_kind.split("-")[0]]
    exports = await audit_trail(app, "personal_data_exported", subject_id=commune.an_id)
    assert [e.detail["via"] for e in exports] == (["chat"] if fake_telegram else ["link"])
    (done,) = await requests_of(app, commune.an_id)
    assert done.status.value == "approved" and done.delivered_at is not None
    if fake_telegram is None:  # only the link's hash is kept
        (row,) = await rows(app, "data_request")
        assert link is not None and row["link_hash"] and link.group(1)[-43:] not in row["link_hash"]


@BOTH
async def test_a_correction_goes_to_the_officer_and_a_decline_is_explained(
    app: Application, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient
) -> None:
    an, officer = linked["an"], linked["officer"]
    await my_data(an)
    (await an.press("Đề nghị sửa thông tin")).says("tối đa 1000 ký tự")
    (await an.say("x" * 1500)).says("Nội dung đề nghị sửa dài quá (hơn 1000 ký tự)")
    (await an.say("Địa chỉ của tôi là số 5 ngõ 12 Quang Trung, không phải số 15")).says(
        "Đã gửi đến cán bộ phụ trách của xã"
    )
    (await officer.during(app.scheduler.tick)).says("đề nghị sửa thông tin của mình")
    sealed = (await rows(app, "data_request"))[0]
    assert sealed["text_enc"] and "Quang Trung" not in str(sealed["text_enc"])  # sealed at rest
    browser = await signed_in(app, console, await officer_id(app))
    page = await console.get("/console/requests")
    assert "số 5 ngõ 12 Quang Trung" in page.text
    refused = await browser.post(f"/console/requests/{sealed['id']}/decline", {"reason": "duplicate"})  # not for this
    assert refused.status_code == 303 and (await requests_of(app, commune.an_id))[0].status.value == "pending"
    declined = await browser.post(f"/console/requests/{sealed['id']}/decline", {"reason": "no_change"})
    assert declined.status_code == 303
    told = await an.during(app.scheduler.tick)
    told.says("Về đề nghị sửa thông tin của bạn", "Chúng tôi đã kiểm tra và thấy thông tin của bạn đã đúng.")
    assert await audited(app, "data_request_made", subject_id=commune.an_id) == 1
    history = await console.get("/console/requests")
    assert "Không có yêu cầu nào đang chờ." in history.text and "Đã từ chối: " in history.text
    assert "Ngày xử lý" in history.text and "Ngày đề nghị" in history.text  # the decided ones' headings


@BOTH
async def test_withdrawing_a_consent_shows_its_effects_first(app: Application, linked: dict[str, Chat]) -> None:
    an = linked["an"]
    await my_data(an)
    await an.press("Rút lại đồng ý")
    effects = await an.press("Chia sẻ câu trả lời điểm danh với người đồng hành")
    effects.says("người đồng hành sẽ không xem được câu trả lời điểm danh", "vẫn được lưu trong hồ sơ")
    effects.offers("Có, rút lại", "Không, giữ nguyên")
    (await an.press("Có, rút lại")).says('Đã lưu: bạn rút lại đồng ý "Chia sẻ câu trả lời điểm danh')
    kept = await an.press("Những gì được lưu về tôi")
    kept.says("Chia sẻ câu trả lời điểm danh với người đồng hành: đã rút lại ngày 12/12/2026")


@BOTH
async def test_a_10000_character_correction_is_refused(
    app: Application, linked: dict[str, Chat], commune: Commune
) -> None:
    an = linked["an"]
    await my_data(an)
    await an.press("Đề nghị sửa thông tin")
    (await an.say("a" * 10_000)).says("quá dài")  # longer than any message: refused before the flow
    (await an.say("   ")).says("tối đa 1000 ký tự")  # nothing typed: asked again
    assert await requests_of(app, commune.an_id) == []


@BOTH
async def test_forged_buttons_and_other_chats_get_nothing(
    app: Application, sim: Chats, linked: dict[str, Chat], channel_kind: str, commune: Commune
) -> None:
    if channel_kind.startswith("zalo"):
        pytest.skip("Zalo has no button payloads: there is nothing to forge")
    an, officer = linked["an"], linked["officer"]
    (await an.press_action("mydata:send")).says(STALE)  # a forged button: never offered
    (await officer.press_action("mydata:menu")).says(STALE)  # a staff chat has no such menu
    (await sim.chat("stranger").press_action("mydata:send")).never_says("Đã gửi")  # an unlinked chat
    await my_data(an)
    (await an.press_action("mydata:effects:nonsense")).says(STALE)
    (await an.press_action("mydata:confirm:reminders")).says(STALE)  # offered only after its effects were shown
    assert await requests_of(app, commune.an_id) == []
    async with app.store.transaction() as repos:
        assert (await repos.consents.current(1)).get(Purpose.REMINDERS) is True


@pytest.mark.parametrize("channel_kind", ["simulator"])
async def test_the_simulator_gets_a_one_time_link(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient
) -> None:
    an = linked["an"]
    await my_data(an)
    await an.press("Nhận bản sao dữ liệu")
    await an.press("Có, gửi đi")
    browser = await signed_in(app, console, await officer_id(app))
    request_id = (await requests_of(app, commune.an_id))[0].id
    assert (await browser.post(f"/console/requests/{request_id}/approve")).status_code == 303
    delivered = await an.during(app.scheduler.tick)
    link = re.search(r"http://127\.0\.0\.1:8080(/copy/[A-Za-z0-9_-]{43})", delivered.text)  # the local web app
    assert link is not None, delivered.text
    assert isinstance(sim, Simulator)
    got = await sim.http.post(link.group(1))  # the same web app, on this test's port
    assert got.status_code == 200 and zipfile.ZipFile(io.BytesIO(got.content)).testzip() is None
    assert (await sim.http.post(link.group(1))).status_code == 410
    assert (await sim.http.post("/copy/" + "A" * 43)).status_code == 410  # a guessed token
    assert (await sim.http.post("/copy/short")).status_code == 410


@pytest.mark.parametrize("channel_kind", ["zalo-polling"])
async def test_zalo_without_a_public_url_is_told_to_ask_the_officer(
    app: Application, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient
) -> None:
    an = linked["an"]
    await my_data(an)
    await an.press("Nhận bản sao dữ liệu")
    await an.press("Có, gửi đi")
    browser = await signed_in(app, console, await officer_id(app))
    request_id = (await requests_of(app, commune.an_id))[0].id
    assert (await browser.post(f"/console/requests/{request_id}/approve")).status_code == 303
    told = await an.during(app.scheduler.tick)
    told.says("Bản sao dữ liệu của bạn đã sẵn sàng.", "Mình chưa thể gửi liên kết tải về ở đây").never_says("/copy/")
    assert await audited(app, "data_copy_link_issued") == 0


async def approve_a_copy(app: Application, an: Chat, commune: Commune, console: httpx.AsyncClient) -> int:
    """The person asks for a copy in the chat and the commune's officer approves it in the console; the request."""
    await my_data(an)
    await an.press("Nhận bản sao dữ liệu")
    await an.press("Có, gửi đi")
    browser = await signed_in(app, console, await officer_id(app))
    request_id = (await requests_of(app, commune.an_id))[0].id
    assert (await browser.post(f"/console/requests/{request_id}/approve")).status_code == 303
    return request_id


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_a_copy_refused_by_telegram_is_neither_delivered_nor_an_export(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient,
    fake_telegram: FakeTelegram,
) -> None:  # fmt: skip
    an = linked["an"]
    await approve_a_copy(app, an, commune, console)
    fake_telegram.inject("sendDocument", TelegramFault(403, "Forbidden: bot was blocked by the user"))
    assert (await an.during(app.scheduler.tick)).text == ""  # the files go first: nothing reached the chat
    (request,) = await requests_of(app, commune.an_id)
    assert request.status.value == "approved" and request.delivered_at is None
    assert await audited(app, "personal_data_exported") == 0
    assert [c.status for c in fake_telegram.calls if c.method == "sendDocument"] == [403]


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_a_deferred_document_never_repeats_the_copys_text(
    app: Application, sim: Chats, linked: dict[str, Chat], commune: Commune, console: httpx.AsyncClient,
    fake_telegram: FakeTelegram, clock: FakeClock,
) -> None:  # fmt: skip
    an = linked["an"]
    await approve_a_copy(app, an, commune, console)
    assert isinstance(sim, TelegramChats)
    fake_telegram.inject("sendDocument", TelegramFault(429, "Too Many Requests: retry after 5", 5, skip=1))  # the JSON
    first = await an.during(app.scheduler.tick)
    assert "Bản sao dữ liệu" not in first.text  # deferred before the text
    (request,) = await requests_of(app, commune.an_id)
    assert request.delivered_at is None and await audited(app, "personal_data_exported") == 0
    clock.advance(seconds=30)
    (await an.during(app.scheduler.tick)).says("Bản sao dữ liệu của bạn đã sẵn sàng.")
    texts = [
        c
        for c in fake_telegram.sent("sendMessage", sim.user_id("an"))
        if "Bản sao dữ liệu của bạn" in str(c.params["text"])
    ]
    assert len(texts) == 1  # the text once, after both files
    documents = [c.params["document"].filename for c in fake_telegram.sent("sendDocument", sim.user_id("an"))]
    assert sorted(set(documents)) == sorted(documents[-2:]) and documents[-1].endswith(".json")
    (request,) = await requests_of(app, commune.an_id)
    assert request.delivered_at is not None and await audited(app, "personal_data_exported") == 1
