"""`aftercare participant import` and `import-template`: a commune's 200-row workbook with three bad rows is refused
whole with every row's problems, then imported once fixed; CSV in Windows-1258 and in UTF-8 with a byte-order mark;
files that are not a list; text that looks like a formula stays text; the template round-trips."""

from __future__ import annotations

import asyncio
import io
import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from bot.app import Application
from bot.core.i18n import Audience, Catalogs, default_locales_dir
from bot.domain.entities import RiskLevel, Role, Sex
from bot.domain.register_import import ImportFileError
from bot.services.register_import import read_file
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi, add_ward

HEADERS = [
    "Họ và tên", "Năm sinh", "Giới tính", "Số CCCD", "Nơi cư trú", "Số quyết định", "Ngày quyết định",
    "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Cán bộ đồng hành", "Mức nguy cơ", "Số điện thoại", "Ngôn ngữ",
]  # fmt: skip
VI = Catalogs(default_locales_dir()).translator("vi", Audience.STAFF)


@pytest.fixture
async def commune(app: Application) -> dict[str, int]:
    """Phường Hà Đông (HD) with two cadres, and Phường Kiến Hưng (KH) with one person listed."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await add_ward(service, "KH", "Phường Kiến Hưng")
        binh = (await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi"))[0]
        hoa = (await service.add_staff("Vũ Thị Hoa", Role.CADRE, "HD", None, "vi"))[0]
        await service.add_participant(
            name="Hoàng Văn Xa", unit_code="KH", start=date(2026, 2, 1), term_months=12, cadre_id=None,
            risk=RiskLevel.LOW, language="vi",
            national_id="079092000123",
        )  # fmt: skip
    return {"binh": binh.id, "hoa": hoa.id}


def person(i: int, cadre: object) -> list[object]:
    return [
        f"Nguyễn Văn Thử {i}",
        1970 + i % 30,
        "Nữ" if i % 3 else "Nam",
        int(f"0010890{i:05d}") if i % 2 else f"0010890{i:05d}",  # every other one typed as a number: zeros lost
        f"Tổ {i % 12 + 1}, phường Hà Đông",
        f"{i}/QĐ-UBND",
        date(2025, 12, 1 + i % 28),  # a real date cell
        f"{1 + i % 28:02d}/01/2026",  # as typed in an office
        (12, 24)[i % 2],
        cadre,
        ("Thấp", "Trung bình", "Cao")[i % 3],
        f"09{i:08d}",
        "Tiếng Việt",
    ]


def workbook(rows: list[list[object]], path: Path, headers: list[str] = HEADERS) -> Path:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    sheet = book.add_worksheet("Danh sách")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, headers)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


async def run(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    """`participant import … --json` (the CLI runs its own event loop: in a thread): exit code and its one object."""
    result = await asyncio.to_thread(call, env, "participant", "import", *args, "--json")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return result.exit_code, json.loads(lines[0])


async def template(env: dict[str, str], *args: str) -> dict[str, Any]:
    return await asyncio.to_thread(ok_json, env, "participant", "import-template", *args)


async def names_in(app: Application, code: str = "HD") -> list[str]:
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code(code)
        assert unit is not None
        return [p.name for p in await repos.participants.in_unit(unit.id)]


async def test_a_workbook_with_three_bad_rows_imports_nobody_then_everyone_once_fixed(
    app: Application, env: dict[str, str], commune: dict[str, int], tmp_path: Path
) -> None:
    rows = [person(i, "Trần Thị Bình" if i % 2 else commune["hoa"]) for i in range(200)]
    rows[5][7] = "31/02/2026"  # sheet row 7
    rows[48][9] = "Lê Văn Không Có"  # sheet row 50
    rows[118][3] = rows[8][3]  # sheet row 120: the national ID of row 10
    code, out = await run(env, str(workbook(rows, tmp_path / "ds.xlsx")), "--unit", "HD")
    assert code == 1
    assert out["error"] == "Số dòng có lỗi: 3. Chưa nhập người nào."
    assert out["rows"] == [
        {"row": 7, "errors": ["Ngày bắt đầu quản lý: ngày 31/02/2026 không có trong lịch."]},
        {"row": 50, "errors": ["Cán bộ đồng hành: xã/phường này không có cán bộ đồng hành nào đang làm việc tên là "
                               "“Lê Văn Không Có”."]},
        {"row": 120, "errors": ["Trùng số CCCD với dòng 10."]},
    ]  # fmt: skip
    assert await names_in(app) == []

    rows[5][7], rows[48][9], rows[118][3] = "06/01/2026", "trần thị bình", "001089099999"
    fixed = workbook(rows, tmp_path / "ds-sua.xlsx")
    code, dry = await run(env, str(fixed), "--unit", "hd", "--dry-run")
    assert (code, dry) == (0, {"imported": 0, "ids": [], "dry_run": True, "valid": 200})
    assert await names_in(app) == []

    code, out = await run(env, str(fixed), "--unit", "HD", "--with-codes")
    assert code == 0, out
    assert out["imported"] == 200 and len(out["ids"]) == 200
    codes = out["invite_codes"]
    assert sorted(codes) == sorted(str(i) for i in out["ids"]) and len(set(codes.values())) == 200
    async with app.store.transaction() as repos:
        first = await repos.participants.get(out["ids"][1])
        assert first is not None
        assert (first.name, first.national_id, first.term_months, first.cadre_id) == (
            "Nguyễn Văn Thử 1", "001089000001", 24, commune["binh"]
        )  # fmt: skip
        register = first.register
        assert (register.birth_year, register.sex, register.decision_date, register.phone) == (
            1971, Sex.FEMALE, date(2025, 12, 2), "0900000001"
        )  # fmt: skip
        assert first.term_start == date(2026, 1, 2)
        assert (await repos.participants.get(out["ids"][0])).cadre_id == commune["hoa"]  # type: ignore[union-attr]

    code, again = await run(env, str(fixed), "--unit", "HD")  # the same file twice: everyone is listed already
    assert code == 1 and len(again["rows"]) == 200
    assert again["rows"][0]["errors"][0].startswith("Đã có trong danh sách (#")
    assert len(await names_in(app)) == 200


def _cp1258(text: str) -> bytes:
    """Text as Windows-1258 stores it: letters with a hat, breve or horn are one byte, tone marks a combining byte."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            kept = "".join(m for m in marks if m in "\u0302\u0306\u031b")
            out += unicodedata.normalize("NFC", base + kept).encode("cp1258")
            out += "".join(m for m in marks if m not in kept).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize(
    ("encode", "delimiter"),
    [(_cp1258, ","), (lambda s: "\ufeff".encode() + s.encode("utf-8"), ";"), (lambda s: s.encode("utf-8"), "\t")],
    ids=["windows-1258", "utf-8-bom-semicolons", "utf-8-tabs"],
)
async def test_csv_as_offices_save_it(
    app: Application, env: dict[str, str], commune: dict[str, int], tmp_path: Path, encode: Any, delimiter: str
) -> None:
    lines = [
        ["Họ và tên", "Năm sinh", "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Cán bộ đồng hành", "Nơi cư trú"],
        ["Phạm Thị Hường", "1988", "2026-03-31", "24", "Vũ Thị Hoa", "Tổ 3, phường Hà Đông"],
        ["Đặng Quốc Việt", "1999", "1/4/2026", "12", "", "Số 5; ngõ 12"],
    ]
    text = "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in row) for row in lines)
    source = tmp_path / "ds.csv"
    source.write_bytes(encode(text + "\r\n"))
    code, out = await run(env, str(source), "--unit", "HD")
    assert code == 0, out
    assert await names_in(app) == ["Phạm Thị Hường", "Đặng Quốc Việt"]
    async with app.store.transaction() as repos:
        huong = await repos.participants.get(out["ids"][0])
        assert huong is not None and huong.register.address == "Tổ 3, phường Hà Đông"
        assert huong.name == unicodedata.normalize("NFC", huong.name)


async def test_text_that_looks_like_a_formula_stays_text(
    app: Application, env: dict[str, str], commune: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "cong-thuc.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["name", "address", "decision_no", "start", "term_months", "phone"])
    first = ['=HYPERLINK("http://x.example","Bấm")', "@SUM(1,2)", "", "2026-01-15", "12", "+84 912 345 678"]
    sheet.write_row(1, 0, first)
    sheet.write_formula(1, 2, "=1+1", None, "15/QĐ-UBND")  # a real formula: its stored result is read, never run
    sheet.write_row(2, 0, ["-Lò Văn Hai", "=2+2", "", "2026-01-15", "12", ""])
    book.close()
    code, out = await run(env, str(path), "--unit", "HD")
    assert code == 0, out
    async with app.store.transaction() as repos:
        one, two = [await repos.participants.get(i) for i in out["ids"]]
    assert one is not None and two is not None
    assert one.name == '=HYPERLINK("http://x.example","Bấm")' and one.register.address == "@SUM(1,2)"
    assert one.register.decision_no == "15/QĐ-UBND" and one.register.phone == "+84 912 345 678"
    assert (two.name, two.register.address) == ("-Lò Văn Hai", "=2+2")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "ds.xlsx", "Không mở được tệp dưới dạng bảng tính Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "ds.xls", "Đây là tệp Excel cũ (.xls)"),
        ("Họ và tên,Ngày bắt đầu quản lý,Thời hạn (tháng)\n".encode("utf-16"), "ds.csv", "Không đọc được chữ"),
        (b"", "ds.csv", "Tệp không có nội dung."),
        ("Ngày,Số tiền\n1/1/2026,5\n".encode(), "ds.csv", "Không tìm thấy dòng tiêu đề"),
        ("Họ và tên,Năm sinh\nAn,1990\n".encode(), "ds.csv", "Dòng tiêu đề thiếu cột: “Ngày bắt đầu quản lý”"),
        ("Họ và tên,Ngày bắt đầu,Thời hạn\n\n\n".encode(), "ds.csv", "Bên dưới dòng tiêu đề không có ai để nhập."),
        (("name,start,term_months\n" + "An,2026-01-15,12\n" * 5001).encode(), "ds.csv", "Tệp có hơn 5000 người"),
    ],
    ids=["broken-xlsx", "old-xls", "utf-16", "empty", "no-header", "missing-columns", "nobody", "5001-rows"],
)
def test_files_that_are_not_a_list_are_refused_whole(content: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        read_file(content, name)
    assert refused.value.problem.text(VI).startswith(message)


async def test_wrong_commune_broken_or_missing_file_and_too_large(
    app: Application, env: dict[str, str], commune: dict[str, int], tmp_path: Path
) -> None:
    source = tmp_path / "ds.csv"
    source.write_text("name,start,term_months\nAn,2026-01-15,12\n", encoding="utf-8")
    assert await run(env, str(source), "--unit", "NOPE") == (1, {"error": "no unit with code NOPE"})
    code, out = await run(env, str(source), "--unit", "HN")
    assert code == 1 and "commune" in out["error"]
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert await run(env, str(broken), "--unit", "HD") == (
        1, {"error": "Không mở được tệp dưới dạng bảng tính Excel: tệp có thể bị hỏng hoặc không phải bảng tính. Vui "
                     "lòng mở bằng Excel hoặc LibreOffice rồi lưu lại dưới dạng .xlsx hoặc .csv.", "rows": []}
    )  # fmt: skip
    code, out = await run(env, str(tmp_path / "missing.xlsx"), "--unit", "HD")
    assert code == 1 and out["error"].startswith("cannot read")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    code, out = await run(env, str(big), "--unit", "HD")
    assert code == 1 and "10 MB" in out["error"]
    assert await names_in(app) == []


async def test_the_template_round_trips(
    app: Application, env: dict[str, str], commune: dict[str, int], tmp_path: Path
) -> None:
    target = tmp_path / "mau.xlsx"
    written = await template(env, "--out", str(target), "--unit", "HD")
    assert written["file"] == str(target) and target.stat().st_size == written["bytes"]
    book = openpyxl.load_workbook(target)
    sheet = book.worksheets[0]
    assert sheet.title == "Danh sách" and [c.value for c in sheet[1]] == HEADERS
    assert book.worksheets[1].title == "Hướng dẫn"
    rules = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert rules["C2"].formula1 == '"Nam,Nữ"' and rules["I2"].formula1 == '"12,24"'
    assert rules["H2"].type == "date" and rules["B2"].type == "whole"
    assert rules["J2"].formula1 == "cadres!$A$1:$A$2"  # the commune's two cadres, offered in a list
    sheet.append(["Trịnh Văn Mẫu", 1991, "Nam", "001091000777", "Tổ 1", "", None, date(2026, 2, 1), 12,
                  "Vũ Thị Hoa", "Cao", "", "Tiếng Việt"])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    filled = tmp_path / "mau-da-dien.xlsx"
    filled.write_bytes(buffer.getvalue())
    code, out = await run(env, str(filled), "--unit", "HD")
    assert code == 0 and out["imported"] == 1
    assert await names_in(app) == ["Trịnh Văn Mẫu"]
    english = await template(env, "--out", str(tmp_path / "en.xlsx"), "--language", "en")
    first = openpyxl.load_workbook(english["file"]).worksheets[0]
    assert [c.value for c in first[1]][:3] == ["name", "birth_year", "sex"]
