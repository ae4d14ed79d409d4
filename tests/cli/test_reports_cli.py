"""`aftercare report`, `target` and `handover` through the command line: the JSON contract against the figures
computed by hand (tests/support/reports.py), and the refusals as one JSON object with exit code 1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl

from bot.app import Application
from bot.core.i18n import Catalogs, default_locales_dir
from bot.domain.reports.figures import LABELS
from tests.fakes.clock import FakeClock
from tests.support.cli import call, ok_json
from tests.support.pdfs import text
from tests.support.records import audit_trail
from tests.support.reports import HD_INDICATORS, HD_NOVEMBER, build_communes


async def test_the_report_as_json_and_its_bad_inputs(app: Application, clock: FakeClock, env: dict[str, str]) -> None:
    await build_communes(app, clock)
    out = await asyncio.to_thread(ok_json, env, "report", "--unit", "HD", "--period", "2026-11")
    assert (out["unit"], out["period"]["from"], out["period"]["to"]) == ("HD", "2026-11-01", "2026-11-30")
    assert out["counts"] == HD_NOVEMBER
    assert {name: (i["numerator"], i["denominator"], i["value"], i["target"])
            for name, i in out["indicators"].items()} == HD_INDICATORS  # fmt: skip
    assert "communes" not in out
    province = await asyncio.to_thread(ok_json, env, "report", "--unit", "HN", "--period", "2026-11",
                                       "--format", "json")  # fmt: skip
    assert [row["unit"] for row in province["communes"]] == ["CG", "HD", "TX"]
    assert province["communes"][1]["counts"] == HD_NOVEMBER
    assert [e.detail["period"] for e in await audit_trail(app, "report_made")] == ["2026-11", "2026-11"]

    # Targets and the number handed over, then the report uses them.
    target = await asyncio.to_thread(ok_json, env, "target", "set", "--unit", "HN", "--indicator", "job_support",
                                     "--value", "60")  # fmt: skip
    assert target == {"unit": "HN", "indicator": "job_support", "target": 0.6}
    await asyncio.to_thread(ok_json, env, "handover", "set", "--unit", "HD", "--month", "2026-11", "--people", "4")
    again = await asyncio.to_thread(ok_json, env, "report", "--unit", "HD", "--period", "2026-11")
    assert again["indicators"]["job_support"]["target"] == 0.6
    assert again["indicators"]["managed"] == {"numerator": 4, "denominator": 4, "value": 1.0, "target": 1.0,
                                              "met": True}  # fmt: skip

    for args, message in [
        (("report", "--unit", "HD", "--period", "2026-13"), "no such date"),
        (("report", "--unit", "HD", "--period", "x" * 10_000), "is not a period"),
        (("report", "--unit", "ZZ", "--period", "2026-11"), "no unit with code ZZ"),
        (("report", "--unit", "HD", "--period", "2026-11", "--format", "pdf"), "give --out FILE"),
        (("report", "--unit", "HD", "--period", "2026-11", "--format", "doc"), "json, xlsx or pdf"),
        (("target", "set", "--unit", "HD", "--indicator", "job_support", "--value", "60"), "for a province"),
        (("target", "set", "--unit", "HN", "--indicator", "job_support", "--value", "600"), "from 0 to 100"),
        (("handover", "set", "--unit", "HN", "--month", "2026-11", "--people", "4"), "for a commune"),
        (("handover", "set", "--unit", "HD", "--month", "11/2026", "--people", "4"), "YYYY-MM"),
        (("handover", "set", "--unit", "HD", "--month", "2026-1", "--people", "4"), "YYYY-MM"),
        (("handover", "set", "--unit", "HD", "--month", "1999-01", "--people", "4"), "YYYY-MM"),
        (("handover", "set", "--unit", "HD", "--month", "2026-q1", "--people", "4"), "YYYY-MM"),
        (("report", "--unit", "HD", "--period", "2026-11", "--format", "pdf", "--out", "/no/such/dir/x.pdf"),
         "cannot write"),
        (("handover", "set", "--unit", "HD", "--month", "2026-11", "--people", "-1"), "between 0 and"),
    ]:
        result = await asyncio.to_thread(call, env, *args, "--json")
        assert result.exit_code == 1, args
        assert message in result.stdout[:300], (args, result.stdout[:300])


async def test_the_province_as_xlsx_and_pdf_says_what_the_json_says(
    app: Application, clock: FakeClock, env: dict[str, str], tmp_path: Path
) -> None:
    await build_communes(app, clock)
    wanted = await asyncio.to_thread(ok_json, env, "report", "--unit", "HN", "--period", "2026-11")
    book_path, pdf_path = tmp_path / "bao-cao.xlsx", tmp_path / "bao-cao.pdf"
    for output, path in (("xlsx", book_path), ("pdf", pdf_path)):
        done = await asyncio.to_thread(ok_json, env, "report", "--unit", "HN", "--period", "2026-11",
                                       "--format", output, "--out", str(path))  # fmt: skip
        assert done["out"] == str(path) and done["bytes"] == path.stat().st_size > 1000
    book = openpyxl.load_workbook(book_path)
    sheets = {sheet.title: sheet for sheet in book.worksheets}
    figures = {row[0]: row[3] for row in sheets["Số liệu"].iter_rows(min_row=2, values_only=True)}
    assert figures == wanted["counts"]
    shown = {row[0]: row[2:6] for row in sheets["Chỉ tiêu"].iter_rows(min_row=2, values_only=True)}
    for name, indicator in wanted["indicators"].items():
        assert shown[name] == (indicator["numerator"], indicator["denominator"], indicator["value"],
                               indicator["target"]), name  # fmt: skip
    assert any("Định nghĩa" in title for title in sheets)
    printed = "".join(text(pdf_path.read_bytes()).split())  # table cells wrap: compare without white space
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "THÀNH PHỐ HÀ NỘI",
                  "Phường Hà Đông", "Phường Cầu Giấy", "01/11/2026", "30/11/2026"):  # fmt: skip
        assert "".join(words.split()) in printed, words
    t = Catalogs(default_locales_dir()).translator("vi", "staff")
    for key, value in wanted["counts"].items():  # each figure's row: its label, then its value
        shown_value = "" if value is None else str(value).replace(".0", "").replace(".", ",")
        assert "".join(t._(LABELS[key]).split()) + shown_value in printed, key
    for name in ("Nguyễn Văn An", "Phan Thị Hà", "Lê Văn Cường"):  # people and staff: never on a province's paper
        assert "".join(name.split()) not in printed


async def test_the_hand_over_notice_from_the_command_line(
    app: Application, clock: FakeClock, env: dict[str, str], tmp_path: Path
) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        transfer = (await repos.fieldwork.transfers_of(ids["dung"]))[0].id
    out = tmp_path / "mau-53.pdf"
    done = await asyncio.to_thread(ok_json, env, "participant", "handover-notice", "--transfer", str(transfer),
                                   "--out", str(out))  # fmt: skip
    assert done == {"transfer": transfer, "file": str(out)}
    printed = " ".join(text(out.read_bytes()).split())
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "ĐẶNG VĂN DŨNG", "PHƯỜNG HÀ ĐÔNG", "Cầu Giấy", "15/11/2026"):
        assert words in printed, words
    assert [e.subject_id for e in await audit_trail(app, "handover_notice_printed")] == [ids["dung"]]
    missing = await asyncio.to_thread(call, env, "participant", "handover-notice", "--transfer", "999",
                                      "--out", str(tmp_path / "x.pdf"), "--json")  # fmt: skip
    assert missing.exit_code == 1 and "no transfer 999" in missing.stdout
