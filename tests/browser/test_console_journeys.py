"""Journeys through the console in Chromium, in Vietnamese, the way the people who use it go: the first admin, an
officer preparing the commune's list (and reading its report), a cadre on a phone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import Settings
from tests.support.cli import cli_env, ok_json


def operator_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The shell of the server's operator: the same database and the same web address as the running app."""
    return cli_env(settings.database_url, tmp_path / "data") | {"AFTERCARE_HTTP_PORT": str(settings.http_port)}


async def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    return await asyncio.to_thread(ok_json, env, *args)  # the CLI runs its own event loop, as in a shell


async def test_the_first_admin_signs_in_with_the_link_the_cli_prints_seeds_the_communes_and_adds_an_officer(
    app: Application, site: str, page: Any, settings: Settings, tmp_path: Path, fake_telegram: Any
) -> None:
    from tests.e2e.telegram_client import TelegramChats

    env = operator_env(settings, tmp_path)
    await cli(env, "unit", "add", "--code", "HN", "--name", "Thành phố Hà Nội")
    admin = await cli(env, "staff", "add", "--name", "Nguyễn Quản Trị", "--role", "admin", "--unit", "HN")
    link = await cli(env, "staff", "login-link", "--id", str(admin["id"]))
    assert link["url"].startswith(site + "/console/login/")

    await page.goto(link["url"])
    await page.get_by_role("heading", name="Đăng nhập trang quản lý").wait_for()
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Tổng quan").wait_for()
    assert await page.get_by_role("link", name="Nhật ký truy cập").is_visible()

    # The province's communes from the official list: a dry run first, then confirmed.
    await page.get_by_role("navigation").get_by_role("link", name="Đơn vị").click()
    await page.get_by_label("Tỉnh/thành phố (tên hoặc mã)").fill("Hà Nội")
    await page.get_by_role("button", name="Kiểm tra danh mục chính thức").click()
    await page.get_by_role("button", name="Thêm 126 xã/phường").click()
    await page.get_by_role("heading", name="Số xã/phường: 126").wait_for()
    assert await page.get_by_role("cell", name="Phường Hà Đông", exact=True).count() == 1

    # An officer for Hà Đông; the invite code shown once links her chat.
    await page.get_by_role("navigation").get_by_role("link", name="Cán bộ").click()
    await page.locator("#name").fill("Lê Văn Cường")
    await page.locator("#role").select_option(label="Cán bộ phụ trách")
    await page.locator("#unit").select_option(label="Phường Hà Đông")
    await page.get_by_role("button", name="Thêm và hiện mã mời").click()
    await page.get_by_role("heading", name="Đã thêm: Lê Văn Cường").wait_for()
    code = (await page.locator("article code").inner_text()).strip()
    officer = TelegramChats(fake_telegram, webhook=False).chat("cuong")
    (await officer.say(code)).says("Lê Văn Cường").offers("Mở trang quản lý")

    await page.goto(link["url"])  # the same link again: spent
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Đường dẫn đăng nhập này không dùng được").wait_for()


def register_rows(count: int, cadre: str) -> list[list[object]]:
    """A commune's list as an office keeps it: Vietnamese names, dd/mm/yyyy dates, the cadre by name."""
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
    given = ["Văn An", "Thị Bích", "Minh Châu", "Quốc Dũng", "Thu Hà", "Đức Huy", "Ngọc Lan", "Văn Nam"]
    rows: list[list[object]] = []
    for i in range(count):
        name = f"{family[i % 8]} {given[(i // 8) % 8]} {chr(65 + i % 26)}{i}"
        rows.append([name, 1980 + i % 25, "Nam" if i % 3 else "Nữ", f"0012{i:08d}", f"Tổ {i % 12 + 1}, Hà Đông",
                     f"{i + 1}/QĐ-UBND", "05/01/2026", "15/01/2026", 24 if i % 2 else 12, cadre, "Trung bình",
                     f"09{i:08d}", "vi"])  # fmt: skip
    return rows


def workbook(rows: list[list[object]], path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ và tên", "Năm sinh", "Giới tính", "Số CCCD", "Nơi cư trú", "Số quyết định", "Ngày quyết định",
                  "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Cán bộ đồng hành", "Mức nguy cơ", "Số điện thoại",
                  "Ngôn ngữ"])  # fmt: skip
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.slow
async def test_an_officer_signs_in_from_telegram_imports_the_list_prints_cards_and_a_person_links(
    app: Application, site: str, page: Any, fake_telegram: Any, tmp_path: Path
) -> None:
    from tests.e2e.telegram_client import TelegramChats
    from tests.support.factories import seed_commune
    from tests.support.pdfs import page_texts, qr_codes

    commune = await seed_commune(app)
    chats = TelegramChats(fake_telegram, webhook=False)
    officer = chats.chat("cuong")
    await officer.say(commune.officer_code)
    reply = await officer.say("/login")
    reply.says("/console/login/")
    url = next(word for word in reply.text.split() if "/console/login/" in word)
    assert url.startswith(site)

    await page.goto(url)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Tổng quan — Phường Hà Đông").wait_for()

    # The commune's list: 200 rows, three of them wrong (an impossible date, an unknown cadre, a repeated ID).
    rows = register_rows(200, "Trần Thị Bình")
    rows[0][9] = ""  # the first one has no cadre yet: assigned from the record below
    rows[10][7] = "31/02/2026"
    rows[50][9] = "Người Không Có"
    rows[120][3] = rows[121][3]
    await page.get_by_role("link", name="Nhập danh sách").click()
    await page.get_by_label("Tệp (XLSX hoặc CSV, tối đa 10 MB)").set_input_files(workbook(rows, tmp_path / "ds.xlsx"))
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    await page.get_by_role("heading", name="Các dòng có lỗi").wait_for()
    problems = page.locator("section[aria-labelledby=problems] tbody tr")
    assert await problems.count() == 3  # nothing else is wrong, and nothing is written yet
    shown = [" ".join((await problems.nth(i).inner_text()).split()) for i in range(3)]
    assert shown[0].startswith("12 ") and "31/02/2026 không có trong lịch" in shown[0]  # the header is row 1
    assert shown[1].startswith("52 ") and "Người Không Có" in shown[1]
    assert shown[2].startswith("123 ") and "Trùng số CCCD với dòng 122" in shown[2]
    assert await page.get_by_role("button", name="Nhập 197 người").count() == 0  # a file with a problem imports no one

    rows[10][7] = "28/02/2026"
    rows[50][9] = "Trần Thị Bình"
    rows[120][3] = "001299999999"
    await page.get_by_label("Tệp (XLSX hoặc CSV, tối đa 10 MB)").set_input_files(workbook(rows, tmp_path / "ds2.xlsx"))
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    await page.get_by_role("button", name="Nhập 200 người").click()
    await page.get_by_role("heading", name="Đã nhập 200 người").wait_for()

    # Their invite cards: every QR opens the bot with that person's new code.
    await page.get_by_role("link", name="In thẻ mời").first.click()
    # 200 cards with their QR codes: seconds alone, but beside the suite's slowest tests on two cores it has taken
    # longer than the default 30 s.
    async with page.expect_download(timeout=120_000) as download_info:
        await page.get_by_role("button", name="In thẻ cho những người đã chọn (PDF)").click(timeout=120_000)
    pdf = await asyncio.to_thread(Path(await (await download_info.value).path()).read_bytes)
    pages = page_texts(pdf)
    assert len(pages) == 25  # eight cards a page
    links = qr_codes(pdf)
    assert len(links) == 200 and all(link.startswith("https://t.me/") and "?start=" in link for link in links)

    # A record, and a cadre assigned from it.
    await page.get_by_role("navigation").get_by_role("link", name="Danh sách", exact=True).click()
    await page.get_by_label("Tìm theo tên").fill("nguyen van an a0")
    await page.get_by_role("button", name="Xem", exact=True).click()
    await page.get_by_role("link", name="Nguyễn Văn An A0").click()
    await page.get_by_role("heading", name="Nguyễn Văn An A0").wait_for()
    await page.locator("#cadre").select_option(label="Trần Thị Bình")
    await page.get_by_role("button", name="Phân công cán bộ đồng hành").click()
    flash = page.get_by_role("status")
    await flash.wait_for()
    assert (await flash.inner_text()).startswith("Xong: từ nay Trần Thị Bình đồng hành với #")
    cadre_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Cán bộ đồng hành"))
    assert " ".join((await cadre_row.inner_text()).split()) == "Cán bộ đồng hành Trần Thị Bình"

    # The first person on the first card links their Telegram with the printed code.
    code = links[0].split("?start=")[1]
    person = chats.chat("nguoi-dau-tien")
    (await person.say(f"/start {code}")).says("Chào mừng bạn đến với Đồng Hành", "Phường Hà Đông")
    async with app.store.transaction() as repos:
        linked = await repos.identities.find("telegram", chats.external_id("nguoi-dau-tien"))
        assert linked is not None and linked.participant_id is not None
        first = await repos.participants.get(linked.participant_id)
    assert first is not None and first.name in pages[0]  # the code on the first card is that card's person's
    await page.goto(f"{site}/console/people/{first.id}")
    await page.get_by_role("heading", name=first.name).wait_for()
    chat_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Trò chuyện"))
    assert " ".join((await chat_row.inner_text()).split()) == "Trò chuyện Đã kết nối"

    # The commune's report for January, when the list began: a month picked from the list, without script.
    await page.get_by_role("navigation").get_by_role("link", name="Báo cáo", exact=True).click()
    await page.get_by_role("heading", name="Báo cáo — Phường Hà Đông").wait_for()
    await page.get_by_label("Kỳ báo cáo").select_option(label="Tháng 01/2026")
    await page.get_by_role("button", name="Xem báo cáo").click()
    await page.get_by_role("heading", name="Tháng 01/2026").wait_for()
    assert await page.locator("tr[data-figure=enrolled] td").inner_text() == "200"  # 199 imported (one from 28/02), An
    assert await page.get_by_role("button", name="Tải XLSX").is_visible()


async def test_a_cadre_reads_her_people_and_a_record_on_a_phone(
    app: Application, site: str, phone: Any, fake_telegram: Any
) -> None:
    from tests.e2e.telegram_client import TelegramChats
    from tests.support.factories import seed_commune

    commune = await seed_commune(app)
    chats = TelegramChats(fake_telegram, webhook=False)
    binh = chats.chat("binh")
    (await binh.say(commune.cadre_code)).offers("Mở trang quản lý")
    reply = await binh.say("/login")
    url = next(word for word in reply.text.split() if "/console/login/" in word)

    await phone.goto(url)
    await phone.get_by_role("button", name="Đăng nhập").click()
    await phone.get_by_role("heading", name="Tổng quan").wait_for()
    await phone.get_by_role("navigation").get_by_role("link", name="Người tôi đồng hành").click()
    await phone.get_by_role("heading", name="Người tôi đồng hành").wait_for()
    assert await phone.get_by_role("link", name="Đỗ Thị Bích").count() == 0  # not hers: not on her list
    assert await _fits(phone)

    await phone.get_by_role("link", name="Nguyễn Văn An").click()
    await phone.get_by_role("heading", name="Nguyễn Văn An").wait_for()
    assert await _fits(phone)  # one column: nothing to scroll sideways on a 375 px screen

    response = await phone.goto(f"{site}/console/people/{commune.binh_id}")  # someone else's person, typed in
    assert response is not None and response.status == 404
    await phone.get_by_role("heading", name="Không tìm thấy nội dung này.").wait_for()
    assert "Đỗ Thị Bích" not in await phone.content()


async def _fits(page: Any) -> bool:
    """The page is no wider than the screen (a table may scroll inside its own box)."""
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_an_officer_approves_a_persons_request_for_a_copy_of_their_data(
    app: Application, site: str, page: Any, fake_telegram: Any
) -> None:
    from tests.e2e.telegram_client import TelegramChats
    from tests.support.chats import link_participant
    from tests.support.factories import seed_commune

    commune = await seed_commune(app)
    chats = TelegramChats(fake_telegram, webhook=False)
    an, cuong = chats.chat("an"), chats.chat("cuong")
    await link_participant(an, commune.an_code)
    await an.press("Thông tin của tôi")
    await an.press("Dữ liệu của tôi")
    await an.press("Nhận bản sao dữ liệu")
    (await an.press("Có, gửi đi")).says("Đã gửi")
    await cuong.say(commune.officer_code)
    url = next(word for word in (await cuong.say("/login")).text.split() if "/console/login/" in word)

    await page.goto(url)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", name="Tổng quan").wait_for()
    await page.get_by_role("navigation").get_by_role("link", name="Yêu cầu về dữ liệu").click()
    await page.get_by_role("heading", name="Yêu cầu về dữ liệu").wait_for()
    request = page.locator("article.data-request", has_text="Nguyễn Văn An")
    await request.get_by_role("button", name="Duyệt và gửi bản sao").click()
    await page.get_by_text("Đã duyệt. Bản sao đang được gửi").wait_for()
    await page.get_by_text("Không có yêu cầu nào đang chờ.").wait_for()

    (await an.during(app.scheduler.tick)).says("Bản sao dữ liệu của bạn đã sẵn sàng.")
    names = sorted(c.params["document"].filename for c in fake_telegram.sent("sendDocument"))
    assert [name.rsplit(".", 1)[1] for name in names] == ["json", "pdf"]
