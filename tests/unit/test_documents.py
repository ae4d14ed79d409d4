"""The printed documents: invite cards (pages, a QR code per person that opens their own link, nothing that tells a
stranger what the programme is, Vietnamese that survives into the PDF) and the completion certificate (Mẫu 54)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import Catalogs, default_locales_dir
from bot.documents.cards import PER_PAGE, InviteCard, pages_for, render_cards
from bot.documents.certificate import CompletionCertificate, in_text, long_date, place, render_certificate
from bot.domain.entities import Sex
from tests.support.pdfs import page_texts, qr_codes, reader, text
from tests.support.texts import REVEALING_IN_CATALOGS

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
EXPIRES = datetime(2026, 7, 24, 3, 30, tzinfo=UTC)  # 10:30 in Hà Nội
NAMES = ["Nguyễn Văn An", "Đỗ Thị Bích", "Trần Quốc Cường", "Lê Thị Dung", "Phạm Ngọc Ẩn", "Hoàng Văn Em"]
# A card lies on a table at home: it never says what the programme is, in any language, with or without tones.
FORBIDDEN = (*REVEALING_IN_CATALOGS, "ma tuy", "cai nghien", "xet nghiem", "công an", "police", "aftercare", "sau cai")


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(default_locales_dir())


def _card(catalogs: Catalogs, n: int, *, link: bool = True, language: str = "vi") -> InviteCard:
    code = f"ABCDE-{n:05d}"
    url = f"https://t.me/dong_hanh_bot?start={code.replace('-', '')}" if link else None
    return InviteCard(f"{NAMES[n % len(NAMES)]} {n}", code, EXPIRES, url, catalogs.translator(language))


def _folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@pytest.mark.parametrize("count", [1, 8, 9, 19])
def test_cards_fill_a4_pages_eight_at_a_time_and_each_qr_opens_that_persons_link(
    catalogs: Catalogs, count: int
) -> None:
    cards = [_card(catalogs, n) for n in range(count)]
    rendered = render_cards(cards, ZONE)
    assert rendered.pages == pages_for(count) == -(-count // PER_PAGE)
    pdf = reader(rendered.pdf)
    assert len(pdf.pages) == rendered.pages
    width, height = (float(v) for v in pdf.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert sorted(qr_codes(rendered.pdf)) == sorted(card.link for card in cards if card.link)
    # Each page holds its own eight people, in the order asked: name and code together on the same sheet.
    for page, page_text in enumerate(page_texts(rendered.pdf)):
        for card in cards[page * PER_PAGE : (page + 1) * PER_PAGE]:
            assert card.name in page_text and card.code in page_text


def test_a_card_says_nothing_of_the_programme_and_keeps_its_vietnamese(catalogs: Catalogs) -> None:
    cards = [_card(catalogs, 0), _card(catalogs, 1, link=False), _card(catalogs, 2, language="en")]
    rendered = render_cards(cards, ZONE)
    content = text(rendered.pdf)
    folded = _folded(content)
    for word in FORBIDDEN:
        assert _folded(word) not in folded, word
    info = reader(rendered.pdf).metadata or {}
    assert all(_folded(word) not in _folded(str(value)) for word in FORBIDDEN for value in info.values())
    # Vietnamese diacritics survive into the PDF's text (names and the card's own words), in the person's language.
    assert "Nguyễn Văn An 0" in content and "Đỗ Thị Bích 1" in content
    assert "Đồng Hành" in content
    assert "Mã kết nối" in content and "Dùng được đến 10:30 ngày 24/07/2026" in content
    assert "quét mã QR" in content  # the card with a link says how to scan it …
    assert "Mở Zalo và tìm Đồng Hành." in content  # … the one without says how to find the bot on Zalo
    assert "Connection code" in content and "Valid until 10:30 on 24 Jul 2026" in content  # the English reader's card
    assert "ABCDE-00000" in content and "ABCDE-00001" in content


def test_a_card_without_telegram_has_no_qr_code(catalogs: Catalogs) -> None:
    rendered = render_cards([_card(catalogs, n, link=False) for n in range(3)], ZONE)
    assert rendered.pages == 1
    assert qr_codes(rendered.pdf) == []


def test_hostile_names_are_printed_as_text_and_fetch_nothing(catalogs: Catalogs) -> None:
    """A name is text: markup in it is shown as typed, a url() or <img> in it reaches neither the network nor a file,
    and 10,000 characters stay inside their card (the page count does not grow)."""
    t = catalogs.translator("vi")
    names = [
        '<img src="file:///etc/passwd"> <b>An</b>',
        "</style><style>body{background:url(http://127.0.0.1:9/x)}</style>",
        "Bích " * 2000,
    ]
    cards = [InviteCard(name, "ABCDE-FGHJK", EXPIRES, None, t) for name in names * 3]
    rendered = render_cards(cards, ZONE)
    assert rendered.pages == len(reader(rendered.pdf).pages) == 2
    content = "".join(text(rendered.pdf).split())  # a long word wraps anywhere inside its card
    assert '<imgsrc="file:///etc/passwd"><b>An</b>' in content and "</style><style>body{background" in content
    assert qr_codes(rendered.pdf) == [] and not any(page.images for page in reader(rendered.pdf).pages)


def test_no_cards_is_refused() -> None:
    with pytest.raises(ValueError):
        render_cards([], ZONE)


def _certificate(**overrides: object) -> CompletionCertificate:
    fields: dict[str, object] = {
        "commune": "Phường Hà Đông",
        "name": "Nguyễn Văn An",
        "sex": Sex.MALE,
        "birth_year": 1990,
        "national_id": "001090012345",
        "address": "Tổ dân phố 5, phường Hà Đông, Hà Nội",
        "decision_no": "123/QĐ-UBND",
        "decision_date": date(2025, 1, 10),
        "term_start": date(2025, 1, 15),
        "term_end": date(2026, 1, 20),
    }
    return CompletionCertificate(**(fields | overrides))  # type: ignore[arg-type]


def test_the_certificate_is_the_national_form_with_the_persons_details() -> None:
    pdf = render_certificate(_certificate())
    assert len(reader(pdf).pages) == 1
    content = " ".join(text(pdf).split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG HÀ ĐÔNG",
        "GIẤY CHỨNG NHẬN",
        "Đã chấp hành xong thời gian quản lý sau cai nghiện ma túy",
        "Ông: NGUYỄN VĂN AN",
        "Năm sinh: 1990",
        "001090012345",
        "Tổ dân phố 5, phường Hà Đông, Hà Nội",
        "Quyết định số 123/QĐ-UBND ngày 10 tháng 01 năm 2025 của Chủ tịch Ủy ban nhân dân phường Hà Đông",
        "từ ngày 15/01/2025 đến ngày 20/01/2026",
        "Hà Đông, ngày 20 tháng 01 năm 2026",
        "CHỦ TỊCH",
    ):
        assert expected in content, expected


def test_what_the_register_does_not_hold_is_left_to_fill_in_by_hand() -> None:
    unknown = dict.fromkeys(("sex", "birth_year", "national_id", "address", "decision_no", "decision_date"))
    pdf = render_certificate(_certificate(commune="Xã Ba Vì", name="Đỗ Thị Bích", **unknown))
    content = " ".join(text(pdf).split())
    assert "Ông/Bà: ĐỖ THỊ BÍCH" in content and "XÃ BA VÌ" in content and "Ba Vì, ngày 20 tháng 01 năm 2026" in content
    assert "Năm sinh: ....." in content and "Nơi cư trú: ....." in content
    assert "ngày .... tháng .... năm" in content and "None" not in content


def test_the_commune_is_written_as_documents_write_it() -> None:
    assert place("Phường Hà Đông") == "Hà Đông" and place("Xã Ba Vì") == "Ba Vì" and place("Hà Nội") == "Hà Nội"
    assert in_text("Phường Hà Đông") == "phường Hà Đông" and in_text("Đặc khu Côn Đảo") == "đặc khu Côn Đảo"
    assert long_date(date(2027, 1, 5)) == "ngày 05 tháng 01 năm 2027"
