"""Importing a commune's list from the spreadsheet it keeps (XLSX or CSV), for the console and the CLI alike.

`read_file` turns the bytes into a `Sheet` (the header found, each data row's cells as text) or refuses the file as
a whole with one clear reason; `preview` checks every row against the rules (`bot.domain.register_import`) and the
list as it is now, writing nothing; `commit` checks again in its own transaction (a preview is never trusted: a
cadre may have left, someone may have been added meanwhile) and enrols everyone through `Enrolment`, each with an
invite code, or no one. `template_xlsx` is the file to fill in.

Reading is defensive: at most 10 MB, at most `MAX_ROWS` people, at most 200 MB unpacked (an XLSX is a zip: a small
file can unpack to gigabytes); openpyxl reads the stored results of formulas (`data_only`), never evaluates one;
a CSV is UTF-8 (with or without a byte-order mark) or else Windows-1258, the Vietnamese Windows code page.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.core.i18n import N_, Translator
from bot.db.store import Repositories
from bot.domain.entities import FOLLOWED, Role, Unit, UnitLevel
from bot.domain.register_import import (
    CHOICES_EN,
    CHOICES_VI,
    EARLIEST,
    FIELDS,
    HEADER_SEARCH_ROWS,
    HEADERS_VI,
    LABELS,
    MAX_ROWS,
    OLDEST,
    REQUIRED,
    YOUNGEST,
    Cadres,
    Checked,
    Header,
    ImportFileError,
    Listed,
    Person,
    RowProblems,
    Rules,
    cell_text,
    check_list,
    no_header,
    normalise_national_id,
    read_header,
    require_columns,
    say,
)
from bot.domain.terms import TermPolicy
from bot.services.enrolment import Enrolment, EnrolmentError, IssuedInvite
from bot.services.operators import Operator

MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_COLUMNS = 60
MAX_EMPTY_RUN = 1000  # this many empty rows in a row end the list (formatting dragged down a whole sheet)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls of Excel 97-2003, or an XLSX protected with a password


# ---- reading -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sheet:
    """What a file says, as text: the header's row, the columns left out, and each data row by field."""

    header_row: int
    rows: tuple[tuple[int, dict[str, str]], ...]
    ignored_columns: tuple[str, ...] = ()

    def to_json(self) -> str:
        """For a confirmation that comes back later (the console seals it); `from_json` reads it back."""
        compact = [[row, [cells.get(f, "") for f in FIELDS]] for row, cells in self.rows]
        return json.dumps({"h": self.header_row, "i": list(self.ignored_columns), "r": compact}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Sheet:
        data = json.loads(text)
        rows = tuple(
            (int(row), {f: str(v) for f, v in zip(FIELDS, values, strict=True) if v}) for row, values in data["r"]
        )
        return cls(int(data["h"]), rows, tuple(str(c) for c in data["i"]))


def read_file(data: bytes, filename: str = "", max_rows: int = MAX_ROWS) -> Sheet:
    """The sheet in an XLSX or CSV file, or `ImportFileError` saying why the file cannot be read."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(say(N_("The file is too large (at most 10 MB).")))
    if not data.strip():
        raise ImportFileError(say(N_("The file is empty.")))
    name = filename.lower()
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise ImportFileError(
            say(N_("This is an old Excel file (.xls) or a file protected with a password. Open it in Excel and save it "
                "as .xlsx (Excel Workbook) without a password, or as CSV."))
        )  # fmt: skip
    if data.startswith(_ZIP_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return _sheet(_xlsx_rows(data), max_rows)
    return _sheet(_csv_rows(data), max_rows)


def _broken() -> ImportFileError:
    return ImportFileError(
        say(N_("The file could not be opened as an Excel workbook: it may be damaged or of another kind. Open it in "
            "Excel or LibreOffice and save it again as .xlsx or .csv."))
    )  # fmt: skip


def _xlsx_rows(data: bytes) -> Iterator[Sequence[object]]:
    """Each row's values of the workbook's first sheet that looks like the list (the template's instructions sheet
    does not), from row 1, missing rows filled in (so positions are the row numbers the spreadsheet shows)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _broken() from None
    if unpacked > MAX_UNPACKED:
        raise ImportFileError(say(N_("The file is too large (at most 10 MB).")))
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of extensions it drops (validation, styles): harmless
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a zip that is not a workbook fails in many ways (KeyError, ValueError, XML errors…)
        raise _broken() from None
    try:
        sheets = list(book.worksheets)
        for index, sheet in enumerate(sheets):
            try:
                sheet.reset_dimensions()  # type: ignore[union-attr]  # some writers store a wrong size: read it all
                rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
                first = [r for _, r in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
                if index < len(sheets) - 1 and not _looks_like_list(first):
                    continue
                yield from first
                yield from rows
                return
            except ImportFileError:
                raise
            except Exception:
                raise _broken() from None
    finally:
        book.close()


def _looks_like_list(rows: Iterable[Sequence[object]]) -> bool:
    """Whether one of these rows is a header (even a faulty one: its refusal is then the clear answer)."""
    for number, values in enumerate(rows, start=1):
        try:
            if read_header(number, [cell_text(v) for v in values]) is not None:
                return True
        except ImportFileError:
            return True
    return False


def _csv_rows(data: bytes) -> Iterator[Sequence[object]]:
    """The rows of a CSV file, split at the delimiter that makes its header readable (comma; semicolon, as Excel
    writes CSV where the decimal separator is a comma, as in Vietnam; or tab)."""
    text = decode_csv(data)

    def parse(delimiter: str) -> Iterator[list[str]]:
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def columns(delimiter: str) -> int:
        try:
            first = list(itertools.islice(parse(delimiter), HEADER_SEARCH_ROWS))
        except csv.Error:
            return 0
        for number, values in enumerate(first, start=1):
            try:
                header = read_header(number, values)
            except ImportFileError:
                return MAX_COLUMNS  # a header, if a faulty one: its refusal is the clear answer
            if header is not None:
                return len(header.columns)
        return 0

    delimiter = max((",", ";", "\t"), key=columns)  # the first of equals: comma
    try:
        yield from parse(delimiter)
    except csv.Error:
        raise ImportFileError(say(N_("The CSV file could not be read: save it again from Excel as CSV."))) from None


def decode_csv(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else Windows-1258: the two encodings Vietnamese offices save CSV in.
    Text is composed (NFC): Windows-1258 writes many letters as a base letter and a combining tone mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1258")
        except UnicodeDecodeError:
            text = "\x00"
    if "\x00" in text:  # UTF-16 ("Unicode text") or not text at all
        raise ImportFileError(
            say(N_("The text of the CSV file could not be read: save it as “CSV UTF-8” or in Windows-1258."))
        )
    return unicodedata.normalize("NFC", text)


def _sheet(rows: Iterable[Sequence[object]], max_rows: int) -> Sheet:
    """The header among the first rows, then every non-empty data row below it (as text, by field)."""
    numbered = enumerate(rows, start=1)
    header: Header | None = None
    for number, values in numbered:
        header = read_header(number, [cell_text(v) for v in values[:MAX_COLUMNS]])
        if header is not None or number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise no_header()
    require_columns(header)
    out: list[tuple[int, dict[str, str]]] = []
    empty_run = 0
    for number, values in numbered:
        cells = {f: cell_text(values[i], f) for f, i in header.columns.items() if i < len(values)}
        if not any(cells.values()):
            empty_run += 1
            if empty_run >= MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        if len(out) >= max_rows:
            raise ImportFileError(
                say(N_("The file has more than {limit} people; split it into several files."), limit=max_rows)
            )
        out.append((number, {f: v for f, v in cells.items() if v}))
    if not out:
        raise ImportFileError(say(N_("There is nobody to import below the header row.")))
    return Sheet(header.row, tuple(out), header.ignored)


# ---- checking and enrolling ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    """Who can be enrolled as the file stands, and every row's problems; nothing has been written."""

    rows: tuple[Person, ...]
    problems: tuple[RowProblems, ...]
    sheet: Sheet
    ignored_columns: tuple[str, ...] = ()
    elsewhere: int = 0  # national ID numbers of the file found on another commune's list (audited: who looked)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems

    @property
    def total(self) -> int:
        return len(self.sheet.rows)


@dataclass(frozen=True, slots=True)
class Imported:
    ids: list[int]
    invites: dict[int, IssuedInvite] = field(default_factory=dict)


class ImportRejected(ValueError):
    """Some rows have problems (found again at commit): nothing was written."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(f"{len(preview.problems)} rows have problems")
        self.preview = preview


def commune_only(unit: Unit) -> None:
    if unit.level is not UnitLevel.COMMUNE:
        raise EnrolmentError("participants are managed by a commune, not a province")


async def check(
    repos: Repositories, unit: Unit, sheet: Sheet, *, today: date, terms: TermPolicy | None = None
) -> Preview:
    """Every row against the rules, the commune's active cadres and who is listed now (here, and by national ID
    number anywhere)."""
    commune_only(unit)
    rules = Rules(today, Cadres.of(await repos.staff.in_unit(unit.id, Role.CADRE)), terms or TermPolicy())
    followed = await repos.participants.followed(unit.id)
    listed = [Listed(p.id, p.name, p.register.birth_year, p.national_id) for p in followed]
    here = {p.id for p in followed}
    elsewhere: set[str] = set()
    numbers = {normalise_national_id(c["national_id"]) for _, c in sheet.rows if c.get("national_id")}
    for number in sorted(n for n in numbers if n.isdigit() and len(n) in (9, 12)):
        for pid in await repos.participants.with_national_id(number):
            if pid in here:
                continue
            person = await repos.participants.get(pid)
            if person is not None and person.status in FOLLOWED:
                elsewhere.add(number)
    checked: Checked = check_list(sheet.rows, rules, listed, elsewhere, sheet.ignored_columns)
    return Preview(checked.people, checked.problems, sheet, checked.ignored_columns, len(elsewhere))


async def preview(
    repos: Repositories,
    unit: Unit,
    file_bytes: bytes,
    filename: str,
    *,
    today: date,
    terms: TermPolicy | None = None,
) -> Preview:
    """Read the file and check it; `ImportFileError` when the file itself cannot be read. Writes nothing."""
    return await check(repos, unit, read_file(file_bytes, filename), today=today, terms=terms)


async def commit(
    repos: Repositories,
    enrolment: Enrolment,
    unit: Unit,
    sheet: Sheet,
    *,
    today: date,
    operator: Operator,
    terms: TermPolicy | None = None,
) -> Imported:
    """Check the sheet again against the list as it is in this transaction, then enrol everyone (each with an invite
    code), or raise `ImportRejected` having written nothing (the caller's transaction rolls back on it). The import
    is audited with counts only."""
    checked = await check(repos, unit, sheet, today=today, terms=terms)
    if not checked.ok:
        raise ImportRejected(checked)
    out = Imported([])
    for person in checked.rows:
        participant, invite = await enrolment.add_participant(
            name=person.name,
            unit_code=unit.code,
            start=person.start,
            term_months=person.term_months,
            cadre_id=person.cadre_id,
            risk=person.risk,
            language=person.language,
            national_id=person.national_id,
            register=person.register,
        )
        out.ids.append(participant.id)
        out.invites[participant.id] = invite
    await operator.record(
        repos, "participants_imported", subject_type="unit", subject_id=unit.id, detail={"count": len(out.ids)}
    )
    return out


# ---- the template --------------------------------------------------------------------------------------------------

_HELP: dict[str, str] = {
    "name": N_("Required. The person's full name, as on their ID card."),
    "birth_year": N_("A year such as 1990 (a full date of birth is also read)."),
    "sex": N_("Nam or Nữ."),
    "national_id": N_("12 digits (9 for an old ID card), written as text so the leading 0 stays."),
    "address": N_("Hamlet or residential group, and the address."),
    "decision_no": N_("Number of the decision that placed the person under management."),
    "decision_date": N_("Date of that decision, dd/mm/yyyy."),
    "start": N_("Required. First day of the management term, dd/mm/yyyy."),
    "term_months": N_("Required. 12 or 24 months."),
    "cadre": N_(
        "Name of an active cadre of the commune exactly as in the console, or their staff number. May be "
        "left empty and assigned later."
    ),
    "risk": N_("Thấp, Trung bình or Cao (empty: Trung bình)."),
    "phone": N_("A number the cadre can call."),
    "language": N_("Tiếng Việt or Tiếng Anh: the language of their chat (empty: Tiếng Việt)."),
}


def template_xlsx(t: Translator, *, today: date, cadres: Sequence[str] = (), terms: TermPolicy | None = None) -> bytes:
    """The workbook to fill in: the template's headers (Vietnamese, or English field names for an English reader),
    text columns where leading zeros matter, drop-down lists and date and year checks on every row the import takes,
    and a second sheet that explains each column. `cadres` (the commune's cadres' names) are offered in a list."""
    import xlsxwriter

    terms = terms or TermPolicy()
    english = t.language == "en"
    headers = list(FIELDS) if english else [HEADERS_VI[f] for f in FIELDS]
    choices = CHOICES_EN if english else CHOICES_VI
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True, "valign": "top"})
    as_text = book.add_format({"num_format": "@"})
    as_date = book.add_format({"num_format": "dd/mm/yyyy"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    sheet = book.add_worksheet(t._("List")[:31])
    last = MAX_ROWS  # data rows 2 … MAX_ROWS + 1 (0-based 1 … MAX_ROWS)
    widths = {"name": 28, "address": 32, "cadre": 24, "start": 14, "decision_date": 14, "national_id": 16}
    for col, f in enumerate(FIELDS):
        style = as_text if f in ("national_id", "phone", "decision_no") else None
        style = as_date if f in ("start", "decision_date") else style
        sheet.set_column(col, col, widths.get(f, 13), style)
        sheet.write_string(0, col, headers[col], required if f in REQUIRED else bold)
        sheet.write_comment(0, col, t._(_HELP[f]))
        rule = _validation(f, t, today, terms, choices, cadres)
        if rule is not None:
            sheet.data_validation(1, col, last, col, rule)
    sheet.freeze_panes(1, 1)
    sheet.set_row(0, 32)

    guide = book.add_worksheet(t._("Instructions")[:31])
    guide.set_column(0, 0, 26)
    guide.set_column(1, 1, 90, wrap)
    lines = [
        t._("Fill in one person per row on the first sheet, from row 2; keep the header row as it is."),
        t._("Columns in orange are required. Dates are written dd/mm/yyyy (31/03/2026)."),
        t._("Nothing is written until you confirm the preview; a file with any problem imports no one."),
        t._("Each person gets an invite code; print the invite cards after the import."),
    ]
    for row, line in enumerate(lines):
        guide.write_string(row, 0, line)
    guide.write_string(len(lines) + 1, 0, t._("Column"), bold)
    guide.write_string(len(lines) + 1, 1, t._("What to write"), bold)
    for offset, f in enumerate(FIELDS, start=len(lines) + 2):
        guide.write_string(offset, 0, headers[FIELDS.index(f)])
        guide.write_string(offset, 1, t._(_HELP[f]))
    if cadres:
        hidden = book.add_worksheet("cadres")
        for row, name in enumerate(cadres):
            hidden.write_string(row, 0, name)
        hidden.hide()
    book.close()
    return buffer.getvalue()


def _validation(
    f: str, t: Translator, today: date, terms: TermPolicy, choices: dict[str, tuple[str, ...]], cadres: Sequence[str]
) -> dict[str, Any] | None:
    title = t._(LABELS[f])[:32]
    if f in choices:
        return {"validate": "list", "source": list(choices[f]), "error_title": title,
                "error_message": t._(_HELP[f])[:255]}  # fmt: skip
    if f == "term_months":
        return {"validate": "list", "source": [str(m) for m in terms.allowed_months], "error_title": title,
                "error_message": t._(_HELP[f])[:255]}  # fmt: skip
    if f in ("start", "decision_date"):
        return {"validate": "date", "criteria": "between", "minimum": EARLIEST,
                "maximum": today + timedelta(days=366), "error_title": title,
                "error_message": t._("Write a date as dd/mm/yyyy.")}  # fmt: skip
    if f == "birth_year":
        return {"validate": "integer", "criteria": "between", "minimum": today.year - OLDEST,
                "maximum": today.year - YOUNGEST, "error_title": title,
                "error_message": t._("Write a year such as 1990.")}  # fmt: skip
    if f == "cadre" and cadres:
        # A suggestion, not a lock: a staff number is also accepted, so a value not in the list only warns.
        return {"validate": "list", "source": f"=cadres!$A$1:$A${len(cadres)}", "error_type": "information",
                "error_title": title, "error_message": t._(_HELP[f])[:255]}  # fmt: skip
    return None
