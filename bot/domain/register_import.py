"""Importing a commune's list (the register, Mẫu 52) from a spreadsheet: which column is which, what each cell
means, and what is wrong with a row, in words an officer can act on.

Pure rules: reading XLSX/CSV bytes and asking the database who is listed already and who the commune's cadres are
happen in `bot.services.register_import`, which hands this module plain values. Every problem is a `Problem` (a msgid
and its values), translated where it is shown: the console's preview, the CLI's JSON.

What a cell may hold:
- headers in Vietnamese (the template's, and the ways offices write them) or English (`name`, `birth_year`, …); case,
  diacritics, spacing and punctuation do not matter ("Ho va ten", "HỌ VÀ TÊN *", "Thời hạn (tháng)");
- dates as `YYYY-MM-DD`, as offices write them (`dd/mm/yyyy`, also with `-` or `.`), or a real spreadsheet date;
  a day that does not exist (31/02) is refused, never rolled over;
- text is text: a cell starting with `=`, `+`, `-` or `@` is kept exactly as typed and never evaluated (the reader
  takes a formula's stored result, not the formula).

A row that is fine becomes a `Person`; a row with problems is reported with its number as the spreadsheet shows it
(the header is row 1 in the template) and every problem at once, so one round of corrections is enough.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.core.i18n import N_, SUPPORTED_LANGUAGES, Translator
from bot.domain.entities import Register, RiskLevel, Sex, StaffMember
from bot.domain.terms import TermPolicy
from bot.domain.text import fold

FIELDS: tuple[str, ...] = (
    "name", "birth_year", "sex", "national_id", "address", "decision_no", "decision_date", "start", "term_months",
    "cadre", "risk", "phone", "language",
)  # fmt: skip
REQUIRED: tuple[str, ...] = ("name", "start", "term_months")
MAX_ROWS = 5000  # people in one file; a commune lists 50–500
HEADER_SEARCH_ROWS = 10  # a title or the commune's name may stand above the header row

# The template's headers (the commune's register is kept in Vietnamese); English files use FIELDS themselves.
HEADERS_VI: dict[str, str] = {
    "name": "Họ và tên",
    "birth_year": "Năm sinh",
    "sex": "Giới tính",
    "national_id": "Số CCCD",
    "address": "Nơi cư trú",
    "decision_no": "Số quyết định",
    "decision_date": "Ngày quyết định",
    "start": "Ngày bắt đầu quản lý",
    "term_months": "Thời hạn (tháng)",
    "cadre": "Cán bộ đồng hành",
    "risk": "Mức nguy cơ",
    "phone": "Số điện thoại",
    "language": "Ngôn ngữ",
}
# What a problem calls a column (translated; the Vietnamese text is the template's header).
LABELS: dict[str, str] = {
    "name": N_("Full name"),
    "birth_year": N_("Year of birth"),
    "sex": N_("Sex"),
    "national_id": N_("National ID number"),
    "address": N_("Place of residence"),
    "decision_no": N_("Decision number"),
    "decision_date": N_("Decision date"),
    "start": N_("Start of management"),
    "term_months": N_("Term (months)"),
    "cadre": N_("Cadre"),
    "risk": N_("Risk level"),
    "phone": N_("Phone number"),
    "language": N_("Language"),
}
# Longest text a cell may hold per field (the database keeps more; a register never needs more).
LIMITS: dict[str, int] = {"name": 120, "address": 300, "decision_no": 60, "phone": 30, "cadre": 120}

_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("ho va ten", "ho ten", "ten", "full name", "ho va ten nguoi duoc quan ly"),
    "birth_year": ("nam sinh", "ngay sinh", "ngay thang nam sinh", "year of birth", "birth year", "born"),
    "sex": ("gioi tinh", "gender", "nam nu"),
    "national_id": (
        "so cccd", "cccd", "so cccd cmnd", "cccd cmnd", "so cmnd", "cmnd", "so dinh danh", "so dinh danh ca nhan",
        "so can cuoc", "so can cuoc cong dan", "can cuoc cong dan", "national id number", "id number",
    ),
    "address": ("noi cu tru", "dia chi", "noi o", "noi o hien nay", "thon to dan pho", "dia chi thon to dan pho"),
    "decision_no": ("so quyet dinh", "so qd", "decision number", "decision no"),
    "decision_date": ("ngay quyet dinh", "ngay ra quyet dinh", "ngay qd", "ngay ky quyet dinh"),
    "start": ("ngay bat dau quan ly", "ngay bat dau", "bat dau quan ly", "start date", "start of management"),
    "term_months": ("thoi han thang", "thoi han", "thoi gian quan ly", "thoi gian quan ly thang", "so thang", "term"),
    "cadre": ("can bo dong hanh", "nguoi duoc phan cong giup do", "nguoi giup do", "can bo giup do"),
    "risk": ("muc nguy co", "nguy co", "nguy co tai nghien", "muc nguy co tai nghien", "risk level"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "phone number", "telephone"),
    "language": ("ngon ngu",),
}  # fmt: skip


def header_key(text: str) -> str:
    """A header as compared: no case, no diacritics, punctuation and underscores as spaces ("Thời hạn (tháng)" →
    "thoi han thang", "birth_year" → "birth year")."""
    return " ".join(re.sub(r"[\W_]+", " ", fold(text)).split())


HEADER_NAMES: dict[str, str] = {header_key(f): f for f in FIELDS} | {
    header_key(text): f for f, text in HEADERS_VI.items()
} | {alias: f for f, aliases in _ALIASES.items() for alias in aliases}  # fmt: skip

_SEX = {"nam": Sex.MALE, "male": Sex.MALE, "m": Sex.MALE, "nu": Sex.FEMALE, "female": Sex.FEMALE, "f": Sex.FEMALE}
_RISK = {
    "thap": RiskLevel.LOW, "low": RiskLevel.LOW,
    "trung binh": RiskLevel.MEDIUM, "tb": RiskLevel.MEDIUM, "medium": RiskLevel.MEDIUM,
    "cao": RiskLevel.HIGH, "high": RiskLevel.HIGH,
}  # fmt: skip
_LANGUAGE = {
    "vi": "vi", "tieng viet": "vi", "viet": "vi", "vietnamese": "vi",
    "en": "en", "tieng anh": "en", "anh": "en", "english": "en",
}  # fmt: skip
# The lists the template offers in its drop-downs (accepted as typed, like every spelling above).
CHOICES_VI: dict[str, tuple[str, ...]] = {
    "sex": ("Nam", "Nữ"),
    "risk": ("Thấp", "Trung bình", "Cao"),
    "language": ("Tiếng Việt", "Tiếng Anh"),
}
CHOICES_EN: dict[str, tuple[str, ...]] = {
    "sex": ("male", "female"),
    "risk": ("low", "medium", "high"),
    "language": ("vi", "en"),
}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_INTEGER = re.compile(r"^\d+(?:\.0+)?$")  # "24", and "24.0" as a spreadsheet may store it
_PHONE = re.compile(r"^\+?[\d .()\-]{6,30}$")
EARLIEST = date(2000, 1, 1)  # a date in a register before this is a typo (a term of then has long ended)
YOUNGEST, OLDEST = 12, 100  # ages of people under management (minors from 12: Law 73/2021 Art. 32)
_SHOWN = 40  # a cell's text is quoted back at most this long


@dataclass(frozen=True, slots=True)
class Problem:
    """Something to tell the officer: a msgid and its values; a value that is itself a `Problem` is translated too."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, t: Translator) -> str:
        values = {k: v.text(t) if isinstance(v, Problem) else v for k, v in self.params.items()}
        return t._(self.msgid, **values)


def say(msgid: str, **params: object) -> Problem:
    return Problem(msgid, params)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not a spreadsheet, no header, too many rows); nothing was read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


class _CellError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


# ---- the header ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """Where the header is and which column holds which field (0-based positions); columns no field claims are
    listed by their header text so the preview can say they were left out."""

    row: int
    columns: Mapping[str, int]
    ignored: tuple[str, ...] = ()


def read_header(row: int, cells: Sequence[str]) -> Header | None:
    """The fields this row names, if it looks like a header (it names the person's name column); otherwise None.
    Two columns naming the same field make the file ambiguous: refused with both headers quoted."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        text = cell.strip()
        if not text:
            continue
        found = HEADER_NAMES.get(header_key(text))
        if found is None:
            ignored.append(_quoted(text))
        elif found in columns:
            raise ImportFileError(
                say(N_("Two columns mean the same thing: “{first}” and “{second}”. Keep one of them."),
                    first=_quoted(cells[columns[found]]), second=_quoted(text))
            )  # fmt: skip
        else:
            columns[found] = position
    if "name" not in columns or len(columns) < 2:
        return None
    return Header(row, columns, tuple(ignored))


def require_columns(header: Header) -> Header:
    """The header, if it names every required column; otherwise the refusal names the missing ones."""
    missing = [f for f in REQUIRED if f not in header.columns]
    if missing:
        raise ImportFileError(
            say(N_("Columns missing from the header row: {columns}. Use the template's headers."),
                columns=", ".join(f"“{HEADERS_VI[f]}”" for f in missing))
        )  # fmt: skip
    return header


def no_header() -> ImportFileError:
    return ImportFileError(
        say(N_("No header row was found: the first row must name the columns, such as “{name}” and “{start}”."),
            name=HEADERS_VI["name"], start=HEADERS_VI["start"])
    )  # fmt: skip


def find_header(rows: Iterable[tuple[int, Sequence[str]]]) -> Header:
    """The header among the first rows (a title may stand above it); it must name the required columns."""
    for row, cells in rows:
        header = read_header(row, cells)
        if header is not None:
            return require_columns(header)
    raise no_header()


# ---- cells ---------------------------------------------------------------------------------------------------------


def cell_text(value: object, field_name: str | None = None) -> str:
    """What a spreadsheet cell holds, as text: numbers without a trailing ".0", dates as YYYY-MM-DD. A national ID or
    a phone number stored as a number lost its leading zeros (every CCCD starts with 0); they are put back."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        if field_name == "national_id" and value >= 0:
            return digits.zfill(12 if len(digits) > 9 else 9)
        if field_name == "phone" and len(digits) == 9:
            return "0" + digits
        return digits
    return unicodedata.normalize("NFC", str(value)).strip()


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _label(field_name: str) -> Problem:
    return Problem(LABELS[field_name])


def parse_date(text: str, field_name: str, today: date) -> date:
    """A date as written in a register: 2026-03-31, 31/03/2026 (or 31-03-2026, 31.03.2026), 2026-03-31 00:00:00."""
    found = _ISO.match(text)
    if found:
        year, month, day = int(found[1]), int(found[2]), int(found[3])
    elif found := _DMY.match(text):
        day, month, year = int(found[1]), int(found[2]), int(found[3])
    else:
        raise _CellError(
            say(N_("{column}: “{value}” is not a date; write it as dd/mm/yyyy."), column=_label(field_name),
                value=_quoted(text))
        )  # fmt: skip
    try:
        value = date(year, month, day)
    except ValueError:
        raise _CellError(
            say(N_("{column}: {value} does not exist in the calendar."), column=_label(field_name), value=_quoted(text))
        ) from None
    latest = today + timedelta(days=366)
    if not EARLIEST <= value <= latest:
        raise _CellError(
            say(N_("{column}: {value} is not plausible (between {first} and {last})."), column=_label(field_name),
                value=_quoted(text), first=EARLIEST.strftime("%d/%m/%Y"), last=latest.strftime("%d/%m/%Y"))
        )  # fmt: skip
    return value


def parse_birth_year(text: str, today: date) -> int:
    """A year (1990), or a whole date of birth as some registers keep it (its year is what Mẫu 52 asks)."""
    year: int | None = None
    if _INTEGER.match(text):
        year = int(float(text))
    elif (found := _ISO.match(text)) or (found := _DMY.match(text)):
        y, m, d = (found[1], found[2], found[3]) if found.re is _ISO else (found[3], found[2], found[1])
        try:
            year = date(int(y), int(m), int(d)).year
        except ValueError:
            year = None
    if year is None:
        raise _CellError(say(N_("Year of birth: “{value}” is not a year."), value=_quoted(text)))
    first, last = today.year - OLDEST, today.year - YOUNGEST
    if not first <= year <= last:
        raise _CellError(
            say(N_("Year of birth: {value} is not plausible (between {first} and {last})."), value=year, first=first,
                last=last)
        )  # fmt: skip
    return year


def parse_term(text: str, terms: TermPolicy) -> int:
    allowed = ", ".join(str(m) for m in terms.allowed_months)
    months = int(float(text)) if _INTEGER.match(text) else None
    if months is None or months not in terms.allowed_months:
        raise _CellError(
            say(N_("Term (months): “{value}” is not allowed; write one of {allowed}."), value=_quoted(text),
                allowed=allowed)
        )  # fmt: skip
    return months


def normalise_national_id(text: str) -> str:
    """Digits only: 001 089 012 345, 001.089.012.345 and 001089012345 are the same number."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in ".-")


def parse_national_id(text: str) -> str:
    number = normalise_national_id(text)
    if not (number.isascii() and number.isdigit() and len(number) in (9, 12)):
        raise _CellError(
            say(N_("National ID number: “{value}” is not 12 digits (or 9 for an old ID card)."), value=_quoted(text))
        )
    return number


def _choice(text: str, table: Mapping[str, object], field_name: str, shown: str | Problem) -> object:
    found = table.get(header_key(text))
    if found is None:
        raise _CellError(
            say(N_("{column}: “{value}” is not one of {choices}."), column=_label(field_name), value=_quoted(text),
                choices=shown)
        )  # fmt: skip
    return found


def _text(text: str, field_name: str) -> str:
    value = " ".join(text.split())  # line breaks and runs of spaces inside a cell are one space
    limit = LIMITS[field_name]
    if len(value) > limit:
        raise _CellError(
            say(N_("{column} is too long ({length} characters; at most {limit})."), column=_label(field_name),
                length=len(value), limit=limit)
        )  # fmt: skip
    return value


@dataclass(frozen=True, slots=True)
class Cadres:
    """The commune's active cadres, found by staff number or by their exact name (case and spacing aside)."""

    by_id: Mapping[int, StaffMember]
    by_name: Mapping[str, tuple[StaffMember, ...]]

    @classmethod
    def of(cls, cadres: Iterable[StaffMember]) -> Cadres:
        by_name: dict[str, list[StaffMember]] = {}
        listed = list(cadres)
        for member in listed:
            by_name.setdefault(_name_key(member.name), []).append(member)
        return cls({m.id: m for m in listed}, {k: tuple(v) for k, v in by_name.items()})

    def find(self, text: str) -> int:
        if _INTEGER.match(text):
            member = self.by_id.get(int(float(text)))
            if member is None:
                raise _CellError(say(N_("Cadre: staff number {value} is not an active cadre of this commune."),
                                     value=_quoted(text)))  # fmt: skip
            return member.id
        found = self.by_name.get(_name_key(text), ())
        if not found:
            raise _CellError(
                say(N_("Cadre: “{value}” is not the name of an active cadre of this commune."), value=_quoted(text))
            )
        if len(found) > 1:
            raise _CellError(
                say(
                    N_("Cadre: several cadres are called “{value}”; write the staff number instead."),
                    value=_quoted(text),
                )
            )
        return found[0].id


def _name_key(name: str) -> str:
    """A cadre's name as compared: exact letters and diacritics, case and spacing aside."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


# ---- rows ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    today: date  # where the commune is
    cadres: Cadres
    terms: TermPolicy = field(default_factory=TermPolicy)


@dataclass(frozen=True, slots=True)
class Person:
    """A row that can be enrolled as it is."""

    row: int
    name: str
    start: date
    term_months: int
    national_id: str | None = None
    register: Register = field(default_factory=Register)
    cadre_id: int | None = None
    risk: RiskLevel = RiskLevel.MEDIUM
    language: str = "vi"


@dataclass(frozen=True, slots=True)
class RowProblems:
    row: int
    name: str  # as the file writes it (shortened), so the officer finds the row
    problems: tuple[Problem, ...]


def check_row(row: int, cells: Mapping[str, str], rules: Rules) -> tuple[Person | None, list[Problem]]:
    """One data row (field → cell text): the person, or every problem it has."""
    problems: list[Problem] = []
    values: dict[str, object] = {}

    def take(field_name: str, parse: Callable[[str], object]) -> None:
        text = cells.get(field_name, "").strip()
        if not text:
            return
        try:
            values[field_name] = parse(text)
        except _CellError as exc:
            problems.append(exc.problem)

    if not cells.get("name", "").strip():
        problems.append(say(N_("Full name is missing.")))
    take("name", lambda s: _text(s, "name"))
    take("birth_year", lambda s: parse_birth_year(s, rules.today))
    take("sex", lambda s: _choice(s, _SEX, "sex", Problem(N_("nam, nữ"))))
    take("national_id", parse_national_id)
    take("address", lambda s: _text(s, "address"))
    take("decision_no", lambda s: _text(s, "decision_no"))
    take("decision_date", lambda s: parse_date(s, "decision_date", rules.today))
    if not cells.get("start", "").strip():
        problems.append(say(N_("{column}: the date is missing."), column=_label("start")))
    take("start", lambda s: parse_date(s, "start", rules.today))
    if not cells.get("term_months", "").strip():
        problems.append(say(N_("Term (months) is missing; write one of {allowed}."),
                            allowed=", ".join(str(m) for m in rules.terms.allowed_months)))  # fmt: skip
    take("term_months", lambda s: parse_term(s, rules.terms))
    take("cadre", lambda s: rules.cadres.find(_text(s, "cadre")))
    take("risk", lambda s: _choice(s, _RISK, "risk", Problem(N_("thấp, trung bình, cao"))))
    take("phone", _phone)
    take("language", lambda s: _choice(s, _LANGUAGE, "language", ", ".join(SUPPORTED_LANGUAGES)))
    if problems:
        return None, problems
    register = Register(
        birth_year=values.get("birth_year"),  # type: ignore[arg-type]
        sex=values.get("sex"),  # type: ignore[arg-type]
        address=values.get("address"),  # type: ignore[arg-type]
        phone=values.get("phone"),  # type: ignore[arg-type]
        decision_no=values.get("decision_no"),  # type: ignore[arg-type]
        decision_date=values.get("decision_date"),  # type: ignore[arg-type]
    )
    person = Person(
        row=row,
        name=values["name"],  # type: ignore[arg-type]
        start=values["start"],  # type: ignore[arg-type]
        term_months=values["term_months"],  # type: ignore[arg-type]
        national_id=values.get("national_id"),  # type: ignore[arg-type]
        register=register,
        cadre_id=values.get("cadre"),  # type: ignore[arg-type]
        risk=values.get("risk", RiskLevel.MEDIUM),  # type: ignore[arg-type]
        language=values.get("language", "vi"),  # type: ignore[arg-type]
    )
    return person, []


def _phone(text: str) -> str:
    value = _text(text, "phone")
    if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 6:
        raise _CellError(say(N_("Phone number: “{value}” is not a phone number."), value=_quoted(value)))
    return value


# ---- the list as a whole -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    """Someone on a list already (the commune's people followed now), as far as duplicates go."""

    id: int
    name: str
    birth_year: int | None
    national_id: str | None


@dataclass(frozen=True, slots=True)
class Checked:
    people: tuple[Person, ...]
    problems: tuple[RowProblems, ...]
    ignored_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.people) and not self.problems


def person_key(name: str) -> str:
    """A person's name as compared for duplicates: no case, no diacritics ("Nguyen Van An" is "Nguyễn Văn An")."""
    return fold(name)


def _same_person(
    name: str, year: int | None, number: str | None, other_name: str, other_year: int | None, other_number: str | None
) -> str | None:
    """Why two entries look like one person: "id" (same national ID), "year" (same name and year of birth, not told
    apart by two different national IDs), "name" (same name, and this one has neither a year nor an ID)."""
    if number and other_number:
        return "id" if normalise_national_id(number) == normalise_national_id(other_number) else None
    if person_key(name) != person_key(other_name):
        return None
    if year is not None and other_year is not None:
        return "year" if year == other_year else None
    if year is None and number is None:
        return "name"
    return None


def check_list(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    rules: Rules,
    listed: Sequence[Listed] = (),
    listed_elsewhere: Collection[str] = (),
    ignored_columns: tuple[str, ...] = (),
) -> Checked:
    """Every row checked alone, then against the rows above it and against who is listed already: `listed` are the
    commune's people followed now, `listed_elsewhere` the national ID numbers of this file found on another commune's
    list (normalised)."""
    people: list[Person] = []
    problems: list[RowProblems] = []
    earlier = _Index()
    here = _Index()
    for entry in listed:
        here.add(entry.name, entry.national_id, entry)
    elsewhere = {normalise_national_id(n) for n in listed_elsewhere}
    for row, cells in rows:
        person, found = check_row(row, cells, rules)
        if person is not None:
            found = _duplicates(person, earlier, here, elsewhere)
            earlier.add(person.name, person.national_id, person)
        if found:
            problems.append(RowProblems(row, _quoted(cells.get("name", "")), tuple(found)))
        elif person is not None:
            people.append(person)
    return Checked(tuple(people), tuple(problems), ignored_columns)


class _Index:
    """People found by national ID number and by name (folded), in the order they came: a list of 5,000 is checked
    in one pass, not by comparing every pair."""

    def __init__(self) -> None:
        self.by_number: dict[str, Person | Listed] = {}
        self.by_name: dict[str, list[Person | Listed]] = {}

    def add(self, name: str, number: str | None, entry: Person | Listed) -> None:
        if number:
            self.by_number.setdefault(normalise_national_id(number), entry)
        self.by_name.setdefault(person_key(name), []).append(entry)

    def same(self, person: Person) -> tuple[str, Person | Listed] | None:
        """The first entry that looks like this person, and why ("id", "year" or "name": see `_same_person`)."""
        year, number = person.register.birth_year, person.national_id
        if number and number in self.by_number:
            return "id", self.by_number[number]
        for entry in self.by_name.get(person_key(person.name), ()):
            other_year = entry.register.birth_year if isinstance(entry, Person) else entry.birth_year
            why = _same_person(person.name, year, number, entry.name, other_year, entry.national_id)
            if why is not None:
                return why, entry
        return None


def _duplicates(person: Person, earlier: _Index, here: _Index, elsewhere: Collection[str]) -> list[Problem]:
    found = earlier.same(person)
    if found is not None:
        why, other = found
        row = other.row if isinstance(other, Person) else 0
        if why == "id":
            return [say(N_("Same national ID number as row {other}."), other=row)]
        if why == "year":
            return [say(N_("Same name and year of birth as row {other}; if they are two people, write both national "
                           "ID numbers."), other=row)]  # fmt: skip
        return [say(N_("Same name as row {other}, with no year of birth or national ID number to tell them apart."),
                    other=row)]  # fmt: skip
    found = here.same(person)
    if found is not None:
        why, entry = found
        if why == "id":
            return [say(N_("Already on the list (#{id}): same national ID number."), id=entry.id)]  # type: ignore[union-attr]
        if why == "year":
            return [say(N_("Already on the list (#{id}): same name and year of birth. If this is another person, write "
                           "the national ID numbers of both."), id=entry.id)]  # type: ignore[union-attr]  # fmt: skip
        return [say(N_("Perhaps already on the list (#{id}): same name, and no year of birth or national ID number to "
                       "tell them apart."), id=entry.id)]  # type: ignore[union-attr]  # fmt: skip
    if person.national_id and person.national_id in elsewhere:
        return [say(N_("Already on another commune's list (same national ID number): a move between communes is "
                       "recorded by their officers, not imported."))]  # fmt: skip
    return []


def summary(problems: Sequence[RowProblems], t: Translator) -> list[dict[str, object]]:
    """The rows' problems as the CLI prints them: [{"row": 5, "errors": ["…", …]}, …]."""
    return [{"row": p.row, "errors": [x.text(t) for x in p.problems]} for p in problems]
