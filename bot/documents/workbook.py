"""XLSX cells written the same way in every workbook the console and the CLI hand out (the list, the register and
the due list, the reports): by the value's type, and never a formula, a number or a link made out of text — a name or
an address typed as "=1+1" or "0912…" stays what was typed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def write_cell(sheet: Any, row: int, col: int, value: object, *, day: Any, moment: Any = None, fmt: Any = None) -> None:
    """None or "" stays empty, a bool is a boolean, a number a number, a date a date (`day`), a date and time a date
    and time (`moment`, else `day`), anything else text; `fmt` overrides the format."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, fmt or moment or day)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt or day)
    else:
        sheet.write_string(row, col, str(value), fmt)
