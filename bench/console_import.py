"""Benchmark: importing a commune's list of 1,000 people from XLSX, as the console and `participant import` do it.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.console_import [--rows 1000] [--listed 500] [--postgres URL | --postgres ''] [--no-sqlite]

Why: an officer uploads the commune's spreadsheet and waits on the page twice: for the preview (the file read, every
row checked against the rules, the commune's cadres and the people listed already: their names are decrypted to find
duplicates, national IDs looked up across the country) and for the import itself, which checks everything again in
its own transaction and enrols each person through the enrolment service (sealed name and register, an invite code,
audit entries). Target (issue 16): importing 1,000 rows ≤ 10 s on PostgreSQL. The process's CPU time is printed
next to the wall time: on a busy machine the wall time is mostly waiting.

What is seeded (bench/common.py): commune "C" with `--listed` people already followed (so the duplicate checks have
names to decrypt) and their cadres; the file's people are new, each with the register's fields filled in, a cadre by
name, a 12-digit national ID, dates as a spreadsheet stores them and as offices type them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import xlsxwriter

from bench.common import StatementTimer, drop_postgres, ok, recreate_postgres, rss_window, seed_population, settings_for
from bot.app import build_application
from bot.core.clock import FixedClock
from bot.domain.entities import Role
from bot.services import register_import as imports
from bot.services.operators import Operator

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
TODAY = date(2026, 12, 1)
TARGET_S = 10.0
HEADERS = [
    "Họ và tên", "Năm sinh", "Giới tính", "Số CCCD", "Nơi cư trú", "Số quyết định", "Ngày quyết định",
    "Ngày bắt đầu quản lý", "Thời hạn (tháng)", "Cán bộ đồng hành", "Mức nguy cơ", "Số điện thoại", "Ngôn ngữ",
]  # fmt: skip
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Quốc", "Thanh")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Lan", "Mai", "Nam", "Phúc", "Sơn", "Tâm", "Thảo", "Việt")


def workbook(rows: int, cadres: list[str]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Danh sách")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, HEADERS)
    for i in range(rows):
        r = i + 1
        name = f"{FAMILY[i % 10]} {MIDDLE[i % 6]} {GIVEN[i % 14]} {i}"  # unique: the list has no duplicate
        sheet.write_row(r, 0, [name, 1970 + i % 35, ("Nam", "Nữ")[i % 2], f"0010{90 + i % 9}{i:06d}"])
        sheet.write_row(r, 4, [f"Tổ {i % 20 + 1}, phường Thử", f"{i + 1}/QĐ-UBND"])
        sheet.write_datetime(r, 6, datetime(2025, 11, 1 + i % 28), dates)
        sheet.write_row(r, 7, [f"{1 + i % 28:02d}/{1 + i % 11:02d}/2026", (12, 24)[i % 2], cadres[i % len(cadres)]])
        sheet.write_row(r, 10, [("Thấp", "Trung bình", "Cao")[i % 3], f"09{i:08d}", "Tiếng Việt"])
    book.close()
    return buffer.getvalue()


async def run(url: str, data_dir: Path, rows: int, listed: int) -> None:
    app = build_application(settings_for(url, data_dir), clock=FixedClock(NOW))
    try:
        await app.migrate()
        await seed_population(app, listed, TODAY, NOW)
        async with app.store.transaction() as repos:
            unit = await repos.units.by_code("C")
            assert unit is not None
            cadres = [c.name for c in await repos.staff.in_unit(unit.id, Role.CADRE)]
        data = workbook(rows, cadres)
        print(f"{app.engine.dialect.name}: {rows} rows ({len(data) / 1024:.0f} KB XLSX) into a commune of {listed}")
        with rss_window() as memory:
            started = time.perf_counter()
            sheet = imports.read_file(data, "danh-sach.xlsx")
            read_s = time.perf_counter() - started
            async with app.store.transaction() as repos:
                preview = await imports.check(repos, unit, sheet, today=TODAY)
            preview_s = time.perf_counter() - started
            assert preview.ok, preview.problems[:3]
            operator = Operator(None, "bench")
            with StatementTimer(app.engine) as timer:
                started, cpu = time.perf_counter(), time.process_time()
                sheet = imports.read_file(data, "danh-sach.xlsx")  # the import reads and checks again: never trusted
                async with app.store.transaction() as repos:
                    done = await imports.commit(
                        repos, app.enrolment(repos, operator), unit, sheet, today=TODAY, operator=operator
                    )
                import_s, import_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(done.ids) == rows
        print(f"  read the XLSX                  {read_s:6.2f} s")
        print(_line("preview (read + check)", preview_s))
        print(_line("import (read + check + enrol)", import_s))
        print(f"  per person {import_s / rows * 1000:.1f} ms; this process's CPU {import_cpu:.2f} s; SQL "
              f"{timer.statements} statements, {timer.seconds:.2f} s (wall, with the wait for the server)")  # fmt: skip
        print(f"  peak RSS {memory.peak_mb:.0f} MB (at start {memory.start_mb:.0f} MB)")
    finally:
        await app.aclose()


def _line(name: str, seconds: float) -> str:
    return f"  {name:<30} {seconds:6.2f} s  (target ≤ {TARGET_S:.0f} s: {ok(seconds <= TARGET_S)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--listed", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_console_import")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp) / "sqlite", args.rows, args.listed))
        if args.postgres:
            asyncio.run(recreate_postgres(args.postgres))
            try:
                asyncio.run(run(args.postgres, Path(tmp) / "pg", args.rows, args.listed))
            finally:
                asyncio.run(drop_postgres(args.postgres))


if __name__ == "__main__":
    main()
