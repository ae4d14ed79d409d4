"""A report as documents: the XLSX that passes figures upward (a commune to its province, a province onward) and the
PDF the People's Committee signs (A4, the national heading). Both are made from one `Report` (bot/services/reports),
so they show the numbers the console and the CLI's JSON show, with the same definitions.

The XLSX is for machines as much as for people: every figure and indicator sits in a row or column with its machine
key next to its translated label, numbers are numbers (percentages are fractions formatted as %), dates are dates,
an unknown value is an empty cell, and nothing is a formula. The PDF's fixed wording (the national heading, the title,
the signature block) is Vietnamese whatever the reader's language, as on every administrative document, so it lives in
the template; the labels of the figures come through the translator.

A report names no person: its figures are counts, a province's rows are communes. The renderers read no database and
ask no permission (bot/services/reports.py decides who may see which unit)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from bot.core.i18n import Translator
from bot.documents import render
from bot.documents.certificate import place
from bot.documents.charts import trend_chart
from bot.documents.workbook import OPTIONS, write_cell
from bot.domain.reports import figures, indicators

if TYPE_CHECKING:
    from bot.services.reports import Report

TITLE = "Báo cáo kết quả quản lý sau cai nghiện ma túy tại nơi cư trú"
_PROVINCE_PREFIXES = ("Thành phố ", "Tỉnh ")
_NOT_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})
# The commune table of a province's PDF: the figures an officer above looks at first (the XLSX has them all).
COMMUNE_COUNTS = (
    "under_management_end", "enrolled", "completed", "checkins_due", "checkins_done", "tests_done", "tests_positive",
    "referrals_requested", "crisis_episodes", "reviews_missing",
)  # fmt: skip
COMMUNE_INDICATORS = ("managed", "accessed_services", "checkins", "relapse")
# The trend charts of a province's PDF: (what, key, a percentage).
TREND_CHARTS = (("count", "under_management_end", False), ("indicator", "checkins", True),
                ("indicator", "relapse", True))  # fmt: skip
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


# ---- words and numbers ------------------------------------------------------------------------------------------


def province_place(name: str) -> str:
    """The place a province's document is dated at: "Cao Bằng" for "Tỉnh Cao Bằng", "Hà Nội" for "Thành phố Hà Nội"."""
    for prefix in _PROVINCE_PREFIXES:
        if name.lower().startswith(prefix.lower()):
            return name[len(prefix) :].strip()
    return name.strip()


def number_text(value: float | None, t: Translator) -> str:
    """A figure as the reader writes numbers: 1.234 and 12,5 in Vietnamese, 1,234 and 12.5 in English; — unknown."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return _vietnamese_marks(text) if t.language == "vi" else text


def percent_text(value: float | None, t: Translator) -> str:
    """A fraction as a percentage with one decimal: "85,0 %" in Vietnamese, "85.0%" in English; — unknown."""
    if value is None:
        return "—"
    if t.language == "vi":
        return f"{_vietnamese_marks(f'{value * 100:,.1f}')} %"
    return f"{value * 100:,.1f}%"


def _vietnamese_marks(text: str) -> str:
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def met_text(met: bool | None, t: Translator) -> str:
    return "—" if met is None else (t._("Met") if met else t._("Not met"))


def local_time(moment: datetime, zone: tzinfo | None) -> datetime:
    """`moment` on the wall clock of `zone` (the deployment's), without a zone: what a spreadsheet cell can hold."""
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.replace(tzinfo=None)


def _month_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


# ---- XLSX -------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Book:
    """The workbook being written and its formats (xlsxwriter's objects, typed loosely: imported on first use)."""

    book: Any
    bold: Any
    key: Any
    day: Any
    moment: Any
    month: Any
    percent: Any
    wrap: Any
    names: set[str]

    def sheet(self, title: str) -> Any:
        """A sheet named `title` as Excel allows: at most 31 characters, none of []:*?/\\, each name once."""
        base = " ".join(title.translate(_NOT_IN_SHEET_NAMES).split())[:31] or "Sheet"
        name, n = base, 2
        while name.lower() in self.names:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self.names.add(name.lower())
        return self.book.add_worksheet(name)

    def write(self, sheet: Any, row: int, col: int, value: object, fmt: Any = None) -> None:
        write_cell(sheet, row, col, value, day=self.day, moment=self.moment, fmt=fmt)

    def headers(self, sheet: Any, row: int, headers: Sequence[str], fmt: Any = None) -> None:
        for col, header in enumerate(headers):
            sheet.write_string(row, col, header, fmt or self.bold)


def report_xlsx(report: Report, t: Translator, *, zone: tzinfo | None = None) -> bytes:
    """The report as a workbook: about, figures, indicators, a province's communes, the trend when asked, and the
    definitions of every key. `zone` is the deployment's, for the time the report was made (as given otherwise)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, OPTIONS)
    b = _Book(
        book=book,
        bold=book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        key=book.add_format({"font_color": "#555555", "font_size": 9}),
        day=book.add_format({"num_format": "dd/mm/yyyy"}),
        moment=book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        month=book.add_format({"num_format": "mm/yyyy"}),
        percent=book.add_format({"num_format": "0.0%"}),
        wrap=book.add_format({"text_wrap": True, "valign": "top"}),
        names=set(),
    )
    _about_sheet(b, report, t, zone)
    _figures_sheet(b, report, t)
    _indicators_sheet(b, report, t)
    if report.province:
        _communes_sheet(b, report, t)
    if report.trend:
        _trend_sheet(b, report, t)
    _definitions_sheet(b, t)
    book.close()
    return out.getvalue()


def _about_sheet(b: _Book, report: Report, t: Translator, zone: tzinfo | None) -> None:
    sheet = b.sheet(t._("Report"))
    rows: list[tuple[str, str, object]] = [
        ("unit", t._("Unit code"), report.unit.code),
        ("name", t._("Unit"), report.unit.name),
        ("level", t._("Level"), report.unit.level.value),
        ("from", t._("From"), report.period.first),
        ("to", t._("To"), report.period.last),
        ("label", t._("Period"), report.period.label),
        ("made_at", t._("Made at"), local_time(report.made_at, zone)),
    ]
    if report.parent is not None:
        rows.append(("province", t._("Province"), report.parent.name))
    b.headers(sheet, 0, [t._("Key"), t._("Item"), t._("Value")])
    for r, (key, label, value) in enumerate(rows, start=1):
        sheet.write_string(r, 0, key, b.key)
        sheet.write_string(r, 1, label)
        b.write(sheet, r, 2, value)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 36)


def _figures_sheet(b: _Book, report: Report, t: Translator) -> None:
    sheet = b.sheet(t._("Figures"))
    b.headers(sheet, 0, [t._("Key"), t._("Section"), t._("Figure"), t._("Value")])
    r = 1
    for section, keys in figures.SECTIONS:
        for key in keys:
            sheet.write_string(r, 0, key, b.key)
            sheet.write_string(r, 1, t._(figures.SECTION_NAMES[section]))
            sheet.write_string(r, 2, t._(figures.LABELS[key]))
            b.write(sheet, r, 3, report.counts.get(key))
            r += 1
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 2, 48)
    sheet.set_column(3, 3, 10)
    sheet.freeze_panes(1, 0)


def _indicators_sheet(b: _Book, report: Report, t: Translator) -> None:
    sheet = b.sheet(t._("Indicators"))
    b.headers(sheet, 0, [t._("Key"), t._("Indicator"), t._("Numerator"), t._("Denominator"), t._("Value"),
                         t._("Target"), t._("Met")])  # fmt: skip
    for r, name in enumerate(indicators.NAMES, start=1):
        found = report.indicators.get(name)
        sheet.write_string(r, 0, name, b.key)
        sheet.write_string(r, 1, t._(indicators.LABELS[name]))
        if found is None:
            continue
        b.write(sheet, r, 2, found.numerator)
        b.write(sheet, r, 3, found.denominator)
        b.write(sheet, r, 4, found.value, b.percent)
        b.write(sheet, r, 5, found.target, b.percent)
        b.write(sheet, r, 6, found.met)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 44)
    sheet.set_column(2, 6, 11)
    sheet.freeze_panes(1, 0)


def _wide_headers(b: _Book, sheet: Any, columns: Sequence[tuple[str, str]]) -> None:
    """Two header rows: the reader's labels, then the machine keys (so the file can be checked against the JSON)."""
    for col, (key, label) in enumerate(columns):
        sheet.write_string(0, col, label, b.bold)
        sheet.write_string(1, col, key, b.key)
    sheet.set_row(0, 60)
    sheet.freeze_panes(2, 2)


def _count_columns(t: Translator) -> list[tuple[str, str]]:
    return [(key, t._(figures.LABELS[key])) for key in figures.COUNT_KEYS]


def _indicator_columns(t: Translator) -> list[tuple[str, str]]:
    return [(name, f"{t._(indicators.LABELS[name])} (%)") for name in indicators.NAMES]


def _communes_sheet(b: _Book, report: Report, t: Translator) -> None:
    sheet = b.sheet(t._("Communes"))
    fixed = [("unit", t._("Code")), ("name", t._("Commune")), ("cadres", t._("Cadres")),
             ("points", t._("Counselling points")), ("last_entry", t._("Last entry"))]  # fmt: skip
    _wide_headers(b, sheet, [*fixed, *_count_columns(t), *_indicator_columns(t)])
    for r, line in enumerate(report.communes, start=2):
        cells: list[object] = [line.unit.code, line.unit.name, line.cadres, line.points, line.last_entry]
        cells += [line.counts.get(key) for key in figures.COUNT_KEYS]
        for col, value in enumerate(cells):
            b.write(sheet, r, col, value)
        for offset, name in enumerate(indicators.NAMES):
            found = line.indicators.get(name)
            b.write(sheet, r, len(cells) + offset, found.value if found else None, b.percent)
    sheet.set_column(0, 0, 9)
    sheet.set_column(1, 1, 26)
    sheet.set_column(2, 4, 11)
    sheet.set_column(5, len(fixed) + len(figures.COUNT_KEYS) + len(indicators.NAMES), 12)


def _trend_sheet(b: _Book, report: Report, t: Translator) -> None:
    sheet = b.sheet(t._("12-month trend"))
    _wide_headers(b, sheet, [("month", t._("Month")), *_count_columns(t), *_indicator_columns(t)])
    sheet.freeze_panes(2, 1)
    for r, point in enumerate(report.trend, start=2):
        b.write(sheet, r, 0, _month_day(point.month), b.month)
        for col, key in enumerate(figures.COUNT_KEYS, start=1):
            b.write(sheet, r, col, point.counts.get(key))
        for col, name in enumerate(indicators.NAMES, start=1 + len(figures.COUNT_KEYS)):
            found = point.indicators.get(name)
            b.write(sheet, r, col, found.value if found else None, b.percent)
    sheet.set_column(0, 0, 9)
    sheet.set_column(1, len(figures.COUNT_KEYS) + len(indicators.NAMES), 12)


def _definitions_sheet(b: _Book, t: Translator) -> None:
    sheet = b.sheet(t._("Definitions"))
    b.headers(sheet, 0, [t._("Key"), t._("Figure"), t._("Definition")])
    rows = [(key, figures.LABELS[key], figures.DEFINITIONS[key]) for key in figures.COUNT_KEYS]
    rows += [(name, indicators.LABELS[name], indicators.DEFINITIONS[name]) for name in indicators.NAMES]
    for r, (key, label, definition) in enumerate(rows, start=1):
        sheet.write_string(r, 0, key, b.key)
        sheet.write_string(r, 1, t._(label), b.wrap)
        sheet.write_string(r, 2, t._(definition), b.wrap)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2, 90)
    sheet.freeze_panes(1, 0)


# ---- PDF --------------------------------------------------------------------------------------------------------


def heading(report: Report) -> tuple[str | None, str]:
    """The names in the heading, upper case, each under "ỦY BAN NHÂN DÂN": for a commune whose province is known the
    province first, then the commune ("THÀNH PHỐ HÀ NỘI", "PHƯỜNG HÀ ĐÔNG"); otherwise the unit alone (None, …)."""
    upper = report.parent.name.upper() if not report.province and report.parent is not None else None
    return upper, report.unit.name.upper()


def _sections(report: Report, t: Translator) -> list[dict[str, Any]]:
    return [
        {
            "number": _ROMAN[n],
            "name": t._(figures.SECTION_NAMES[section]),
            "rows": [(t._(figures.LABELS[key]), number_text(report.counts.get(key), t)) for key in keys],
        }
        for n, (section, keys) in enumerate(figures.SECTIONS)
    ]


def _indicator_rows(report: Report, t: Translator) -> list[list[str]]:
    rows = []
    for name in indicators.NAMES:
        found = report.indicators.get(name)
        if found is None:
            continue
        rows.append([t._(indicators.LABELS[name]), number_text(found.numerator, t), number_text(found.denominator, t),
                     percent_text(found.value, t), percent_text(found.target, t), met_text(found.met, t)])  # fmt: skip
    return rows


def _commune_table(report: Report, t: Translator) -> dict[str, Any]:
    """A province's table: one row per commune (codes, names of communes and counts; never a person), and the
    province's total as the last row."""
    headers = [t._("Code"), t._("Commune"), t._("Cadres"), t._("Counselling points"), t._("Last entry")]
    headers += [t._(figures.LABELS[key]) for key in COMMUNE_COUNTS]
    headers += [f"{t._(indicators.LABELS[name])} (%)" for name in COMMUNE_INDICATORS]
    rows = []
    for line in report.communes:
        row = [line.unit.code, line.unit.name, number_text(line.cadres, t), number_text(line.points, t),
               t.date(line.last_entry) if line.last_entry else "—"]  # fmt: skip
        row += [number_text(line.counts.get(key), t) for key in COMMUNE_COUNTS]
        row += [percent_text(_value(line.indicators, name), t) for name in COMMUNE_INDICATORS]
        rows.append(row)
    total = [number_text(sum(line.cadres for line in report.communes), t),
             number_text(sum(line.points for line in report.communes), t), ""]  # fmt: skip
    total += [number_text(report.counts.get(key), t) for key in COMMUNE_COUNTS]
    total += [percent_text(_value(report.indicators, name), t) for name in COMMUNE_INDICATORS]
    return {"headers": headers, "rows": rows, "total": total}


def _value(found: dict[str, indicators.Indicator], name: str) -> float | None:
    indicator = found.get(name)
    return indicator.value if indicator else None


def trend_charts(report: Report, t: Translator) -> list[Markup]:
    """The charts of the 12-month trend: people under management at each month's end, check-ins done (%) and the
    share of positive results among those tested (%). None where a month has no value (nobody due, nobody tested)."""
    decimal = "," if t.language == "vi" else "."
    charts = []
    for what, key, percent in TREND_CHARTS:
        if what == "count":
            title = t._(figures.LABELS[key])
            points = [(p.month, _as_float(p.counts.get(key))) for p in report.trend]
        else:
            title = f"{t._(indicators.LABELS[key])} (%)"
            points = [(p.month, _value(p.indicators, key)) for p in report.trend]
        charts.append(trend_chart(points, title=title, percent=percent, decimal=decimal))
    return charts


def _as_float(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def _definitions(t: Translator) -> list[tuple[str, str]]:
    rows = [(t._(figures.LABELS[key]), t._(figures.DEFINITIONS[key])) for key in figures.COUNT_KEYS]
    rows += [(t._(indicators.LABELS[name]), t._(indicators.DEFINITIONS[name])) for name in indicators.NAMES]
    return rows


def _texts(t: Translator) -> dict[str, str]:
    """The document's own words that follow the reader's language (the fixed administrative wording does not)."""
    return {
        "figure": t._("Figure"),
        "value": t._("Value"),
        "indicators": t._("Indicators"),
        "indicator": t._("Indicator"),
        "numerator": t._("Numerator"),
        "denominator": t._("Denominator"),
        "target": t._("Target"),
        "met": t._("Met"),
        "communes": t._("Figures by commune"),
        "all_in_xlsx": t._("Every figure of every commune is in the report's XLSX file."),
        "total": t._("Total"),
        "trend": t._("12-month trend"),
        "definitions": t._("Definitions"),
        "no": t._("No."),
    }


def report_pdf(report: Report, t: Translator, *, signer: str | None = None, zone: tzinfo | None = None) -> bytes:
    """The report for signature: A4 portrait, the province's commune table on landscape pages. Dated on the day it
    was made (`zone`: the deployment's time zone; the moment's own otherwise); `signer` is written under "NGƯỜI LẬP
    BÁO CÁO" when given, else the space is left to sign and write the name by hand."""
    made = local_time(report.made_at, zone)
    upper, committee = heading(report)
    where = province_place(report.unit.name) if report.province else place(report.unit.name)
    markup = render.html(
        "report.html",
        upper=upper,
        committee=committee,
        unit_in_text=_unit_in_text(report),
        place=where,
        dated=f"ngày {made:%d} tháng {made:%m} năm {made:%Y}",
        first=report.period.first.strftime("%d/%m/%Y"),
        last=report.period.last.strftime("%d/%m/%Y"),
        sections=_sections(report, t),
        indicator_rows=_indicator_rows(report, t),
        communes=_commune_table(report, t) if report.province else None,
        charts=trend_charts(report, t) if report.trend else [],
        definitions=_definitions(t),
        made=t._("Figures as recorded in Đồng Hành at {time} on {date}.", time=f"{made:%H:%M}", date=t.date(made)),
        signer=signer.strip() if signer and signer.strip() else None,
        words=_texts(t),
        numbers=_numbers(report),
        lang=t.language,
    )
    return render.pdf(markup, title=TITLE).pdf


def _numbers(report: Report) -> dict[str, str]:
    """The parts after the figures' sections go on numbering them: I–VI the sections, then the indicators, …"""
    parts = ["indicators", *(["communes"] if report.province else []), *(["trend"] if report.trend else []),
             "definitions"]  # fmt: skip
    return {part: _ROMAN[len(figures.SECTIONS) + n] for n, part in enumerate(parts)}


def _unit_in_text(report: Report) -> str:
    """The unit inside a sentence: "phường Hà Đông", "tỉnh Cao Bằng" (its kind in lower case)."""
    name = report.unit.name.strip()
    for prefix in (*_PROVINCE_PREFIXES, "Phường ", "Xã ", "Thị trấn ", "Đặc khu "):
        if name.lower().startswith(prefix.lower()):
            return name[: len(prefix)].lower() + name[len(prefix) :]
    return name
