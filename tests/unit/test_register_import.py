"""The import's rules, cell by cell and row by row: headers as offices write them, dates and years, the choices, the
cadre, national IDs, text that looks like a formula, and duplicates inside the file and against the list."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.core.i18n import Audience, Catalogs, Translator
from bot.domain.entities import Register, RiskLevel, Role, Sex, StaffMember
from bot.domain.register_import import (
    HEADERS_VI,
    Cadres,
    ImportFileError,
    Listed,
    Person,
    Rules,
    cell_text,
    check_list,
    check_row,
    find_header,
    read_header,
    summary,
)
from bot.domain.terms import TermPolicy

TODAY = date(2026, 12, 1)
EN = Translator("en", gettext.NullTranslations(), Audience.STAFF)  # the msgids themselves
LOCALES = Path(__file__).resolve().parents[2] / "locales"
BINH = StaffMember(7, "Trần Thị Bình", Role.CADRE, 2, None, "vi", True)
HOA = StaffMember(8, "Vũ Thị Hoa", Role.CADRE, 2, None, "vi", True)
HOA_TOO = StaffMember(9, "Vũ Thị Hoa", Role.CADRE, 2, None, "vi", True)
RULES = Rules(TODAY, Cadres.of([BINH, HOA]))
GOOD = {"name": "Nguyễn Văn An", "start": "15/01/2026", "term_months": "12"}


def problems(cells: Mapping[str, str], rules: Rules = RULES) -> list[str]:
    person, found = check_row(5, cells, rules)
    assert (person is None) == bool(found)
    return [p.text(EN) for p in found]


def only(cells: Mapping[str, str], rules: Rules = RULES) -> Person:
    person, found = check_row(5, cells, rules)
    assert person is not None, [p.text(EN) for p in found]
    return person


# ---- headers -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "fields"),
    [
        (list(HEADERS_VI.values()), list(HEADERS_VI)),
        (["name", "birth_year", "sex", "national_id", "start", "term_months", "cadre", "risk", "phone", "language"],
         ["name", "birth_year", "sex", "national_id", "start", "term_months", "cadre", "risk", "phone", "language"]),
        (["STT", "HỌ VÀ TÊN *", "Năm  sinh", "Số CCCD/CMND", "Ngày bắt đầu", "Thời hạn (tháng)", "Ghi chú"],
         ["name", "birth_year", "national_id", "start", "term_months"]),
        (["Ho va ten", "ngay bat dau quan ly", "THOI HAN", "Nơi cư trú", "SĐT", "Người được phân công giúp đỡ"],
         ["name", "start", "term_months", "address", "phone", "cadre"]),
        (["Name", "Start", "Term_Months", "Decision No", "decision_date"],
         ["name", "start", "term_months", "decision_no", "decision_date"]),
    ],
)  # fmt: skip
def test_headers_as_offices_write_them(cells: list[str], fields: list[str]) -> None:
    header = find_header([(1, cells)])
    assert sorted(header.columns) == sorted(fields)
    assert cells[header.columns["name"]].casefold().replace(" *", "") in {"họ và tên", "ho va ten", "name"}


def test_columns_nobody_claims_are_listed_and_the_header_may_sit_below_a_title() -> None:
    rows = [
        (1, ["DANH SÁCH NGƯỜI SAU CAI NGHIỆN", "", ""]),
        (2, ["", "", ""]),
        (3, ["STT", "Họ và tên", "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Ghi chú"]),
    ]
    header = find_header(rows)
    assert header.row == 3
    assert header.columns == {"name": 1, "start": 2, "term_months": 3}
    assert header.ignored == ("STT", "Ghi chú")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, ["Ngày", "Số tiền"])], "No header row was found"),
        ([(1, ["Họ và tên", "Năm sinh"])], "Columns missing from the header row: “Ngày bắt đầu quản lý”, “Thời hạn"),
        ([(1, ["Họ và tên", "Ho ten", "Ngày bắt đầu", "Thời hạn"])], "Two columns mean the same thing: “Họ và tên”"),
    ],
)
def test_files_whose_header_cannot_be_read(rows: list[tuple[int, list[str]]], message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        find_header(rows)
    assert caught.value.problem.text(EN).startswith(message)


def test_a_row_of_data_is_not_a_header() -> None:
    assert read_header(2, ["Nguyễn Văn An", "1990", "15/01/2026"]) is None


# ---- cells ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field", "text"),
    [
        (None, None, ""),
        (12.0, "term_months", "12"),
        (1990, "birth_year", "1990"),
        (1089012345, "national_id", "001089012345"),  # a CCCD typed as a number lost "00"
        (12345678, "national_id", "012345678"),  # an old 9-digit ID card lost its 0
        (912345678, "phone", "0912345678"),
        (datetime(2026, 1, 15, 0, 0), "start", "2026-01-15"),
        (date(2026, 1, 15), "start", "2026-01-15"),
        ('  =HYPERLINK("http://x")  ', "name", '=HYPERLINK("http://x")'),
        ("Nguyê\u0303n", "name", "Nguyễn"),  # decomposed (as Windows-1258 writes it) is composed
    ],
)
def test_what_a_cell_holds_as_text(value: object, field: str | None, text: str) -> None:
    assert cell_text(value, field) == text


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2026-03-31", date(2026, 3, 31)),
        ("31/03/2026", date(2026, 3, 31)),
        ("1/3/2026", date(2026, 3, 1)),
        ("31-03-2026", date(2026, 3, 31)),
        ("31.03.2026", date(2026, 3, 31)),
        ("2026-03-31 00:00:00", date(2026, 3, 31)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_dates_as_offices_write_them(written: str, day: date) -> None:
    assert only(GOOD | {"start": written}).start == day


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("31/02/2026", "Start of management: 31/02/2026 does not exist in the calendar."),
        ("29/02/2026", "Start of management: 29/02/2026 does not exist in the calendar."),
        ("03/31/2026", "Start of management: 03/31/2026 does not exist in the calendar."),
        ("2026/03/31", "Start of management: “2026/03/31” is not a date; write it as dd/mm/yyyy."),
        ("hôm qua", "Start of management: “hôm qua” is not a date; write it as dd/mm/yyyy."),
        ("15/01/26", "Start of management: “15/01/26” is not a date; write it as dd/mm/yyyy."),
        ("01/01/1999", "Start of management: 01/01/1999 is not plausible (between 01/01/2000 and 02/12/2027)."),
        ("01/01/2031", "Start of management: 01/01/2031 is not plausible (between 01/01/2000 and 02/12/2027)."),
    ],
)
def test_impossible_dates_are_refused_not_rolled_over(written: str, message: str) -> None:
    assert problems(GOOD | {"start": written}) == [message]


def test_missing_name_start_and_term_are_all_said_at_once() -> None:
    assert problems({"birth_year": "1990"}) == [
        "Full name is missing.",
        "Start of management: the date is missing.",
        "Term (months) is missing; write one of 12, 24.",
    ]


@pytest.mark.parametrize(
    ("written", "year", "message"),
    [
        ("1990", 1990, None),
        ("1990.0", 1990, None),
        ("15/06/1990", 1990, None),
        ("2010", 2010, None),  # 16: a minor under management
        ("2015", None, "Year of birth: 2015 is not plausible (between 1926 and 2014)."),
        ("1900", None, "Year of birth: 1900 is not plausible (between 1926 and 2014)."),
        ("khoảng 1990", None, "Year of birth: “khoảng 1990” is not a year."),
        ("31/02/1990", None, "Year of birth: “31/02/1990” is not a year."),
    ],
)
def test_year_of_birth(written: str, year: int | None, message: str | None) -> None:
    cells = GOOD | {"birth_year": written}
    if message is None:
        assert only(cells).register.birth_year == year
    else:
        assert problems(cells) == [message]


@pytest.mark.parametrize(
    ("written", "months"), [("12", 12), ("24", 24), ("24.0", 24), ("18", None), ("mười hai", None), ("-12", None)]
)
def test_term_follows_the_policy(written: str, months: int | None) -> None:
    cells = GOOD | {"term_months": written}
    if months is not None:
        assert only(cells).term_months == months
    else:
        assert problems(cells) == [f"Term (months): “{written}” is not allowed; write one of 12, 24."]
    assert only(GOOD | {"term_months": "6"}, Rules(TODAY, RULES.cadres, TermPolicy((6, 12)))).term_months == 6


@pytest.mark.parametrize(
    ("field", "written", "value"),
    [
        ("sex", "Nam", Sex.MALE),
        ("sex", "NỮ", Sex.FEMALE),
        ("sex", "nu", Sex.FEMALE),
        ("sex", "female", Sex.FEMALE),
        ("risk", "Thấp", RiskLevel.LOW),
        ("risk", "trung  bình", RiskLevel.MEDIUM),
        ("risk", "CAO", RiskLevel.HIGH),
        ("risk", "high", RiskLevel.HIGH),
        ("language", "Tiếng Anh", "en"),
        ("language", "vi", "vi"),
        ("language", "English", "en"),
    ],
)
def test_choices_in_either_language(field: str, written: str, value: object) -> None:
    person = only(GOOD | {field: written})
    found = {"sex": person.register.sex, "risk": person.risk, "language": person.language}[field]
    assert found == value


def test_defaults_when_left_empty() -> None:
    person = only(GOOD)
    assert (person.risk, person.language, person.cadre_id, person.national_id) == (RiskLevel.MEDIUM, "vi", None, None)
    assert person.register == Register()


@pytest.mark.parametrize(
    ("field", "written", "message"),
    [
        ("sex", "x", "Sex: “x” is not one of nam, nữ."),
        ("risk", "rất cao", "Risk level: “rất cao” is not one of thấp, trung bình, cao."),
        ("language", "fr", "Language: “fr” is not one of vi, en."),
        ("national_id", "12345", "National ID number: “12345” is not 12 digits (or 9 for an old ID card)."),
        ("national_id", "0010890123X", "National ID number: “0010890123X” is not 12 digits (or 9 for an old ID card)."),
        ("phone", "gọi sau", "Phone number: “gọi sau” is not a phone number."),
        ("decision_date", "32/01/2026", "Decision date: 32/01/2026 does not exist in the calendar."),
    ],
)  # fmt: skip
def test_values_that_are_refused(field: str, written: str, message: str) -> None:
    assert problems(GOOD | {field: written}) == [message]


@pytest.mark.parametrize(
    ("written", "number"),
    [("001 089 012 345", "001089012345"), ("001.089.012.345", "001089012345"), ("012345678", "012345678")],
)
def test_national_id_numbers_are_kept_as_digits(written: str, number: str) -> None:
    assert only(GOOD | {"national_id": written}).national_id == number


@pytest.mark.parametrize(
    ("written", "cadre", "message", "cadres"),
    [
        ("7", 7, None, (BINH, HOA)),
        ("trần thị  bình", 7, None, (BINH, HOA)),
        ("Vũ Thị Hoa", 8, None, (BINH, HOA)),
        ("Tran Thi Binh", None, "Cadre: “Tran Thi Binh” is not the name of an active cadre of this commune.", (BINH,)),
        ("99", None, "Cadre: staff number 99 is not an active cadre of this commune.", (BINH,)),
        ("Vũ Thị Hoa", None, "Cadre: several cadres are called “Vũ Thị Hoa”; write the staff number instead.",
         (HOA, HOA_TOO)),
        ("9", 9, None, (HOA, HOA_TOO)),
    ],
)  # fmt: skip
def test_the_cadre_by_staff_number_or_exact_name(
    written: str, cadre: int | None, message: str | None, cadres: tuple[StaffMember, ...]
) -> None:
    rules = Rules(TODAY, Cadres.of(cadres))
    cells = GOOD | {"cadre": written}
    if message is None:
        assert only(cells, rules).cadre_id == cadre
    else:
        assert problems(cells, rules) == [message]


def test_ten_thousand_characters_are_too_long_and_never_quoted_whole() -> None:
    found = problems(GOOD | {"name": "A" * 10_000, "address": "Tổ 5 " * 2000})
    assert found == [
        "Full name is too long (10000 characters; at most 120).",
        "Place of residence is too long (9999 characters; at most 300).",
    ]
    checked = check_list([(7, GOOD | {"name": "A" * 10_000})], RULES)
    assert len(checked.problems[0].name) == 40


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("name", "=cmd|' /C calc'!A0"),
        ("name", "@SUM(1+1)"),
        ("address", "-2+3, tổ 5"),
        ("phone", "+84 912 345 678"),
        ("decision_no", "=1+1"),
    ],
)
def test_text_that_looks_like_a_formula_is_kept_as_typed(field: str, written: str) -> None:
    person = only(GOOD | {field: written})
    kept = {"name": person.name, "address": person.register.address, "phone": person.register.phone,
            "decision_no": person.register.decision_no}[field]  # fmt: skip
    assert kept == written


# ---- the list as a whole -------------------------------------------------------------------------------------------


def row(number: int, name: str, year: str = "", national_id: str = "") -> tuple[int, dict[str, str]]:
    cells = GOOD | {"name": name}
    if year:
        cells["birth_year"] = year
    if national_id:
        cells["national_id"] = national_id
    return number, cells


def test_duplicates_inside_the_file_point_at_the_first_row() -> None:
    checked = check_list(
        [
            row(2, "Nguyễn Văn An", "1990", "001089012345"),
            row(3, "Lê Văn Bình", "1985", "001 089 012 345"),  # same number, written with spaces
            row(4, "Nguyen Van An", "1990"),  # same name without diacritics, same year
            row(5, "Nguyễn Văn An", "1991"),  # another year: another person
            row(6, "Phạm Thị Cúc"),
            row(7, "PHẠM THỊ CÚC"),  # nothing to tell them apart
            row(8, "Đỗ Văn Dũng", "1990", "001089000001"),
            row(9, "Đỗ Văn Dũng", "1990", "001089000002"),  # two different IDs tell them apart
        ],
        RULES,
    )
    assert [p.row for p in checked.people] == [2, 5, 6, 8, 9]
    assert summary(checked.problems, EN) == [
        {"row": 3, "errors": ["Same national ID number as row 2."]},
        {"row": 4, "errors": ["Same name and year of birth as row 2; if they are two people, write both national ID "
                              "numbers."]},
        {"row": 7, "errors": ["Same name as row 6, with no year of birth or national ID number to tell them apart."]},
    ]  # fmt: skip
    assert not checked.ok


def test_already_on_the_list_here_or_elsewhere() -> None:
    listed = [
        Listed(41, "Nguyễn Văn An", 1990, "001089012345"),
        Listed(42, "Lê Văn Bình", 1985, None),
        Listed(43, "Phạm Thị Cúc", None, None),
        Listed(44, "Đỗ Văn Dũng", 1990, "001089000001"),
    ]
    checked = check_list(
        [
            row(2, "Nguyễn Văn Anh", "1991", "001089012345"),  # same ID, even under another name
            row(3, "Le Van Binh", "1985"),
            row(4, "Phạm Thị Cúc"),
            row(5, "Đỗ Văn Dũng", "1990", "001089000002"),  # told apart by the IDs
            row(6, "Hoàng Văn Em", "1992", "079092000123"),  # listed in another commune
            row(7, "Lê Văn Bình", "1986"),  # another year
        ],
        RULES,
        listed,
        {"079 092 000 123"},
    )
    assert [p.row for p in checked.people] == [5, 7]
    assert summary(checked.problems, EN) == [
        {"row": 2, "errors": ["Already on the list (#41): same national ID number."]},
        {"row": 3, "errors": ["Already on the list (#42): same name and year of birth. If this is another person, "
                              "write the national ID numbers of both."]},
        {"row": 4, "errors": ["Perhaps already on the list (#43): same name, and no year of birth or national ID "
                              "number to tell them apart."]},
        {"row": 6, "errors": ["Already on another commune's list (same national ID number): a move between communes "
                              "is recorded by their officers, not imported."]},
    ]  # fmt: skip


def test_a_clean_list_is_ok() -> None:
    checked = check_list([row(2, "Nguyễn Văn An", "1990"), row(3, "Lê Văn Bình", "1985")], RULES)
    assert checked.ok
    assert [p.name for p in checked.people] == ["Nguyễn Văn An", "Lê Văn Bình"]


def test_problems_read_in_vietnamese() -> None:
    t = Catalogs(LOCALES).translator("vi", Audience.STAFF)
    _, found = check_row(3, {"name": "An", "start": "31/02/2026", "term_months": "18"}, RULES)
    assert [p.text(t) for p in found] == [
        "Ngày bắt đầu quản lý: ngày 31/02/2026 không có trong lịch.",
        "Thời hạn (tháng): “18” không hợp lệ; vui lòng ghi một trong các giá trị 12, 24.",
    ]
