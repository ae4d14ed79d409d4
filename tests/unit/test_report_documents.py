"""The report as documents: the SVG trend chart (valid, accessible, gaps for unknown months), the XLSX read back
against the report's JSON (numbers as numbers, dates as dates, nothing a formula), the report's PDF for signature
(national heading, period, unit, figures, signature block, Vietnamese intact; a province's commune table on landscape
pages, with communes and no people) and the hand-over notice (Mẫu 53). No database: reports are built by hand."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.core.i18n import Catalogs, Translator, default_locales_dir
from bot.documents.charts import month_label, segments, trend_chart
from bot.documents.handover import HandoverNotice, render_handover
from bot.documents.report import number_text, percent_text, report_pdf, report_xlsx
from bot.domain.entities import Sex, Unit, UnitLevel
from bot.domain.reports.figures import COUNT_KEYS, LABELS, SECTION_NAMES, Tally
from bot.domain.reports.indicators import DEFAULT_TARGETS, NAMES, indicators
from bot.domain.reports.period import month_period, trailing_months
from bot.services.reports import CommuneLine, Report, TrendPoint
from tests.support.pdfs import reader, text

SVG = "{http://www.w3.org/2000/svg}"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MADE = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)  # 10:30 on 1 December in Hà Nội
PERIOD = month_period(2026, 11)
PROVINCE = Unit(1, "01", "Thành phố Hà Nội", UnitLevel.PROVINCE, None)
HA_DONG = Unit(10, "09552", "Phường Hà Đông", UnitLevel.COMMUNE, 1)
BA_VI = Unit(11, "09700", "Xã Ba Vì", UnitLevel.COMMUNE, 1)
SIGNER = "Trần Thị Huệ"


# ---- reports built by hand ------------------------------------------------------------------------------------


def _tally(seed: int) -> Tally:
    """Every count a different number (a value in the wrong row shows), people behind the indicators."""
    t = Tally()
    for index, key in enumerate(COUNT_KEYS):
        t.counts[key] = seed * 100 + index
    t.counts["checkins_due"], t.counts["checkins_done"] = 40 * seed, 35 * seed
    t.answer_minutes = [3.0, 7.0 + seed]
    t.people["managed_end"] = set(range(seed * 1000, seed * 1000 + 30))
    t.people["accessed"] = set(range(seed * 1000, seed * 1000 + 25))
    t.people["tested"], t.people["positive"] = set(range(seed * 1000, seed * 1000 + 20)), {seed * 1000}
    t.people["asked_training"], t.people["got_training"] = {1, 2, 3}, {1, 2}
    return t


def _commune_report() -> Report:
    own = _tally(1)
    return Report(HA_DONG, PERIOD, own.figures(), indicators(own, DEFAULT_TARGETS, 32), MADE, parent=PROVINCE)


def _trend() -> list[TrendPoint]:
    """Twelve months; in the fifth nobody was due or tested (its percentages unknown: a gap in the charts)."""
    points = []
    for n, month in enumerate(trailing_months(PERIOD)):
        t = Tally()
        if n != 4:
            t.counts["under_management_end"] = 50 + n
            t.counts["checkins_due"], t.counts["checkins_done"] = 50, 40 + n
            t.people["tested"], t.people["positive"] = set(range(10)), set(range(n % 3))
        points.append(TrendPoint(month.label, t.figures(), indicators(t, DEFAULT_TARGETS, None)))
    return points


def _province_report() -> Report:
    first, second = _tally(1), _tally(2)
    total = Tally()
    total.add(first)
    total.add(second)
    lines = [
        CommuneLine(HA_DONG, first.figures(), indicators(first, DEFAULT_TARGETS, 32), 3, 1, date(2026, 11, 28)),
        CommuneLine(BA_VI, second.figures(), indicators(second, DEFAULT_TARGETS, None), 2, 0, None),
    ]
    return Report(PROVINCE, PERIOD, total.figures(), indicators(total, DEFAULT_TARGETS, None), MADE, lines, _trend())


@pytest.fixture(scope="module")
def vi() -> Translator:
    return Catalogs(default_locales_dir()).translator("vi")


@pytest.fixture(scope="module")
def commune_pdf(vi: Translator) -> bytes:
    return report_pdf(_commune_report(), vi, signer=SIGNER, zone=ZONE)


@pytest.fixture(scope="module")
def province_pdf(vi: Translator) -> bytes:
    return report_pdf(_province_report(), vi, zone=ZONE)


def _flat(pdf: bytes) -> str:
    return " ".join(text(pdf).split())


# ---- the chart --------------------------------------------------------------------------------------------------


def _svg(markup: object) -> ET.Element:
    """The chart as XML: parsing fails if any text was not escaped (the markup is the test's own, not untrusted)."""
    return ET.fromstring(str(markup))  # noqa: S314


def test_a_chart_is_valid_accessible_svg_with_a_gap_for_an_unknown_month() -> None:
    points = [("2026-01", 0.5), ("2026-02", 0.75), ("2026-03", None), ("2026-04", 1.0), ("2026-05", 0.9)]
    svg = str(trend_chart(points, title='Check-ins <done> & "kept"', percent=True))
    root = _svg(svg)  # well-formed XML: every text escaped
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == 'Check-ins <done> & "kept"'
    assert root.findtext(f"{SVG}title") == 'Check-ins <done> & "kept"'
    assert "03/26: —" in (root.findtext(f"{SVG}desc") or "")
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]  # the None month breaks the line
    assert len(root.findall(f"{SVG}circle")) == 4
    labels = [node.text for node in root.iter(f"{SVG}text")]
    assert {"0 %", "25 %", "50 %", "75 %", "100 %"} <= set(labels)  # a percentage axis runs 0–100 %
    assert "01/26" in labels and "05/26" in labels and "75 %" in labels
    # Nothing that runs or fetches: no script, no link, no event handler.
    assert "<script" not in svg and "href" not in svg and "url(" not in svg
    assert not any(key.startswith("on") for node in root.iter() for key in node.attrib)


def test_a_count_chart_ends_its_axis_on_a_round_number_and_a_single_month_is_a_point() -> None:
    root = _svg(trend_chart([("2026-01", None), ("2026-02", 37.0), ("2026-03", None)], title="n"))
    labels = {node.text for node in root.iter(f"{SVG}text")}
    assert {"0", "50", "37"} <= labels and not root.findall(f"{SVG}polyline")
    assert len(root.findall(f"{SVG}circle")) == 1
    assert _svg(trend_chart([], title="empty")).get("role") == "img"


def test_chart_helpers() -> None:
    assert month_label("2026-01") == "01/26" and month_label("Q4") == "Q4"
    assert segments([1, None, 2, 3, None]) == [[0], [2, 3]] and segments([None]) == []


# ---- XLSX -------------------------------------------------------------------------------------------------------


def _book(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def _no_formulas(book: Any) -> None:
    for sheet in book:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), sheet.title


def _by_key(sheet: Any, first: int = 2) -> dict[str, list[Any]]:
    return {row[0]: list(row[1:]) for row in sheet.iter_rows(min_row=first, values_only=True)}


def _indicators_match(rows: dict[str, list[Any]], expected: dict[str, dict[str, Any]]) -> None:
    assert set(rows) == set(NAMES)
    for name, (_, numerator, denominator, value, target, met) in rows.items():
        want = expected[name]
        assert (numerator, denominator, value, target, met) == (
            want["numerator"], want["denominator"], want["value"], want["target"], want["met"],
        ), name  # fmt: skip


def test_a_communes_xlsx_holds_every_figure_and_indicator_of_the_json(vi: Translator) -> None:
    report = _commune_report()
    expected = report.as_dict()
    book = _book(report_xlsx(report, vi, zone=ZONE))
    assert book.sheetnames == ["Báo cáo", "Số liệu", "Chỉ tiêu", "Định nghĩa"]
    _no_formulas(book)
    about = _by_key(book["Báo cáo"])
    assert about["unit"][1] == "09552" and about["name"][1] == "Phường Hà Đông" and about["level"][1] == "commune"
    assert about["from"][1] == datetime(2026, 11, 1) and about["to"][1] == datetime(2026, 11, 30)
    assert about["made_at"][1] == datetime(2026, 12, 1, 10, 30) and about["province"][1] == "Thành phố Hà Nội"
    figures = _by_key(book["Số liệu"])
    assert list(figures) == list(COUNT_KEYS)
    for key, (section, label, value) in figures.items():
        assert value == expected["counts"][key], key
        assert value is None or type(value) in (int, float), key  # a number, never text
        assert label == vi._(LABELS[key]) and section in {vi._(name) for name in SECTION_NAMES.values()}
    assert figures["crisis_median_minutes"][2] == 5.5 and figures["under_management_start"][2] == 100
    _indicators_match(_by_key(book["Chỉ tiêu"]), expected["indicators"])
    assert book["Chỉ tiêu"]["E3"].number_format == "0.0%"  # a fraction shown as a percentage
    definitions = _by_key(book["Định nghĩa"])
    assert list(definitions) == [*COUNT_KEYS, *NAMES] and all(label and text for label, text in definitions.values())
    assert (
        definitions["checkins"][1] == "Số lượt điểm danh hằng tháng đã thực hiện ÷ số lượt điểm danh đến hạn trong kỳ."
    )


def test_a_provinces_xlsx_has_a_row_per_commune_and_the_trend(vi: Translator) -> None:
    report = _province_report()
    expected = report.as_dict()
    book = _book(report_xlsx(report, vi, zone=ZONE))
    assert book.sheetnames == ["Báo cáo", "Số liệu", "Chỉ tiêu", "Xã, phường", "Xu hướng 12 tháng", "Định nghĩa"]
    _no_formulas(book)
    figures = _by_key(book["Số liệu"])
    assert {key: row[2] for key, row in figures.items()} == expected["counts"]
    _indicators_match(_by_key(book["Chỉ tiêu"]), expected["indicators"])
    communes = book["Xã, phường"]
    keys = [cell.value for cell in communes[2]]
    assert keys == ["unit", "name", "cadres", "points", "last_entry", *COUNT_KEYS, *NAMES]
    rows = [dict(zip(keys, row, strict=True)) for row in communes.iter_rows(min_row=3, values_only=True)]
    assert len(rows) == len(expected["communes"]) == 2
    for row, line in zip(rows, expected["communes"], strict=True):
        assert (row["unit"], row["name"], row["cadres"], row["points"]) == (
            line["unit"], line["name"], line["cadres"], line["points"],
        )  # fmt: skip
        assert all(row[key] == line["counts"][key] for key in COUNT_KEYS)
        assert all(row[name] == line["indicators"][name]["value"] for name in NAMES)
    assert rows[0]["last_entry"] == datetime(2026, 11, 28) and rows[1]["last_entry"] is None
    assert rows[1]["managed"] is None  # unknown: an empty cell, not a zero
    trend = book["Xu hướng 12 tháng"]
    keys = [cell.value for cell in trend[2]]
    assert keys == ["month", *COUNT_KEYS, *NAMES]
    months = [dict(zip(keys, row, strict=True)) for row in trend.iter_rows(min_row=3, values_only=True)]
    assert [m["month"] for m in months] == [
        datetime(int(p["month"][:4]), int(p["month"][5:]), 1) for p in expected["trend"]
    ]
    for row, point in zip(months, expected["trend"], strict=True):
        assert all(row[key] == point["counts"][key] for key in COUNT_KEYS)
        assert all(row[name] == point["indicators"][name]["value"] for name in NAMES)
    assert months[4]["checkins"] is None and months[5]["checkins"] == 0.9


def test_text_is_never_a_formula_and_sheet_names_fit_excel(vi: Translator) -> None:
    hostile = Unit(12, "=1+1", '=HYPERLINK("http://x")', UnitLevel.COMMUNE, None)
    own = Tally()
    report = Report(hostile, PERIOD, own.figures(), indicators(own, DEFAULT_TARGETS, None), MADE)
    book = _book(report_xlsx(report, vi))
    _no_formulas(book)
    about = _by_key(book["Báo cáo"])
    assert about["unit"][1] == "=1+1" and about["name"][1] == '=HYPERLINK("http://x")'
    assert "province" not in about  # no parent known
    assert all(len(name) <= 31 for name in book.sheetnames)


# ---- the report's PDF -------------------------------------------------------------------------------------------


def test_a_communes_report_is_the_official_document_with_its_figures(commune_pdf: bytes, vi: Translator) -> None:
    pdf = reader(commune_pdf)
    assert all(tuple(round(float(v)) for v in page.mediabox.upper_right) == (595, 842) for page in pdf.pages)
    content = _flat(commune_pdf)
    report = _commune_report()
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI ỦY BAN NHÂN DÂN PHƯỜNG HÀ ĐÔNG",  # the province above the commune
        "Hà Đông, ngày 01 tháng 12 năm 2026",
        "BÁO CÁO",
        "Kết quả quản lý sau cai nghiện ma túy tại nơi cư trú",
        "Từ ngày 01/11/2026 đến ngày 30/11/2026",
        "Ủy ban nhân dân phường Hà Đông báo cáo",
        "NGƯỜI LẬP BÁO CÁO",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        SIGNER,
        "Người đang được quản lý",  # a section, through the catalog
        "Điểm danh, kiểm diện hằng tháng",
        "Đang quản lý đầu kỳ 100",  # a label and its figure on one row
        "Số phút trung vị đến khi có người phản hồi đầu tiên 5,5",
        "Tỷ lệ điểm danh hằng tháng đã thực hiện 35 40 87,5 % 100,0 % Không đạt",  # an indicator's row
        "Tử số",
        "Mẫu số",
        "Định nghĩa",
        "Số liệu được ghi nhận trên hệ thống Đồng Hành lúc 10:30 ngày 01/12/2026.",
    ):
        assert expected in content, expected
    assert "Xu hướng 12 tháng" not in content and "Số liệu theo xã, phường" not in content  # a commune, no trend
    for key in COUNT_KEYS:
        assert vi._(LABELS[key]) in content, key
    assert number_text(report.counts["reviews_missing"], vi) in content


def test_a_provinces_report_lists_communes_on_landscape_pages_and_names_nobody(province_pdf: bytes) -> None:
    pages = reader(province_pdf).pages
    sizes = [tuple(round(float(v)) for v in page.mediabox.upper_right) for page in pages]
    assert sizes[0] == (595, 842) and (842, 595) in sizes and sizes[-1] == (595, 842)
    content = _flat(province_pdf)
    assert "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI" in content and "Hà Nội, ngày 01 tháng 12 năm 2026" in content
    assert "Số liệu theo xã, phường" in content and "Tổng cộng" in content
    assert "09552 Phường Hà Đông" in content and "09700 Xã Ba Vì" in content and "28/11/2026" in content
    assert "Xu hướng 12 tháng" in content and "Đang quản lý cuối kỳ" in content
    # No signer given: the space is left to sign by hand. The report itself carries no person: every text in it is
    # a unit's code or name, a level, or a date or period label, so no person's name can reach the paper.
    assert SIGNER not in content
    units = {u.name for u in (PROVINCE, HA_DONG, BA_VI)} | {u.code for u in (PROVINCE, HA_DONG, BA_VI)}
    texts = {v for v in _strings(_province_report().as_dict()) if isinstance(v, str)}
    assert all(v in units or v in {"province", "commune"} or v[:1].isdigit() for v in texts), texts - units


def _strings(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value]


def test_numbers_are_written_as_the_reader_writes_them(vi: Translator) -> None:
    en = Catalogs(default_locales_dir()).translator("en")
    assert number_text(1234, vi) == "1.234" and number_text(12.5, vi) == "12,5" and number_text(None, vi) == "—"
    assert number_text(1234, en) == "1,234" and percent_text(0.875, en) == "87.5%"
    assert percent_text(0.875, vi) == "87,5 %" and percent_text(None, vi) == "—"


# ---- the hand-over notice (Mẫu 53) ------------------------------------------------------------------------------


def _notice(**overrides: object) -> HandoverNotice:
    fields: dict[str, object] = {
        "sending": "Phường Hà Đông",
        "receiving": "Xã Ba Vì",
        "name": "Nguyễn Văn An",
        "birth_year": 1990,
        "national_id": "001090012345",
        "address": "Tổ dân phố 5, phường Hà Đông, Hà Nội",
        "term_start": date(2026, 1, 15),
        "expected_end": date(2027, 1, 20),
        "moved_on": date(2026, 11, 3),
        "notice_date": date(2026, 11, 5),
        "sex": Sex.MALE,
        "unreported_days": 5,
        "province": "Thành phố Hà Nội",
    }
    return HandoverNotice(**(fields | overrides))  # type: ignore[arg-type]


def test_the_handover_notice_is_the_form_with_what_the_record_holds() -> None:
    pdf = render_handover(_notice())
    assert len(reader(pdf).pages) == 1
    content = _flat(pdf)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI ỦY BAN NHÂN DÂN PHƯỜNG HÀ ĐÔNG",
        "Hà Đông, ngày 05 tháng 11 năm 2026",
        "THÔNG BÁO",
        "bàn giao người được quản lý sau cai nghiện ma túy thay đổi nơi cư trú",
        "Kính gửi: Ủy ban nhân dân xã Ba Vì.",
        "Ông: NGUYỄN VĂN AN",
        "Năm sinh: 1990",
        "001090012345",
        "Tổ dân phố 5, phường Hà Đông, Hà Nội",
        "từ ngày 15/01/2026, dự kiến kết thúc ngày 20/01/2027",
        "(không tính vào thời gian quản lý): 5 ngày",
        "Đã thay đổi nơi cư trú đến xã Ba Vì từ ngày 03/11/2026",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ):
        assert expected in content, expected


def test_what_the_record_does_not_hold_is_a_dotted_line_on_the_notice() -> None:
    unknown = dict.fromkeys(("sex", "birth_year", "national_id", "address", "unreported_days", "province"))
    content = _flat(render_handover(_notice(name="Đỗ Thị Bích", **unknown)))
    assert "Ông/Bà: ĐỖ THỊ BÍCH" in content and "Năm sinh: ....." in content and "Nơi cư trú: ....." in content
    assert "Quyết định số .............. ngày .... tháng .... năm" in content
    assert "None" not in content and "THÀNH PHỐ HÀ NỘI" not in content
    assert content.startswith("ỦY BAN NHÂN DÂN PHƯỜNG HÀ ĐÔNG")  # no province known: the commune alone
