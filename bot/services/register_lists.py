"""The commune's named lists, for its own officer only (VIEW_NAMED_LIST): the register as kept (Mẫu 52), the due
list (terms ending in the next 30 days, moves not yet accepted, unreported absences in progress or recent) and the
quarterly review per person (good / fair / concerning, or missing), on screen and as XLSX. Reports carry no names;
these lists do, so every showing and every file is audited with its counts, never a name.

The unit is asked of the authorisation table as stored (`reports.unit_in_reach` with VIEW_NAMED_LIST): another
commune, a province or an unknown code is `Refused`, audited."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from bot.core.i18n import N_, Translator
from bot.db.repositories import registers
from bot.db.repositories.registers import OpenAbsence, PendingMove
from bot.db.store import Repositories
from bot.documents.workbook import OPTIONS, write_cell
from bot.domain.authz import Action, Actor
from bot.domain.entities import Participant, Role, Unit, UnitLevel
from bot.domain.reports.period import Period, PeriodError, parse_period
from bot.domain.terms import add_months
from bot.domain.text import fold
from bot.services.operators import Operator
from bot.services.people_list import STATUS_LABELS, sort_key
from bot.services.reports import unit_in_reach

ENDING_DAYS = 30  # a term ending within this many days is on the due list
ABSENCE_DAYS = 30  # an unreported absence that ended this recently is still on it
SEX_LABELS = {"male": N_("Male"), "female": N_("Female")}
PROGRESS = {"good": N_("Good progress"), "fair": N_("Fair progress"), "concerning": N_("Concerning")}


async def commune_in_reach(repos: Repositories, code: str, by: Actor, operator: Operator) -> Unit:
    """The commune whose named lists are asked for, if `by` is its own officer; anything else (a province's list has
    no names) is `Refused`, audited."""
    return await unit_in_reach(repos, code, by, operator, Action.VIEW_NAMED_LIST, UnitLevel.COMMUNE)


@dataclass(frozen=True, slots=True)
class Entry:
    """One person as the register shows them, with their cadre's name."""

    person: Participant
    cadre: str


@dataclass(frozen=True, slots=True)
class DueLists:
    ending: tuple[Entry, ...]  # terms ending from today to ENDING_DAYS ahead (or already past, not completed)
    moves_out: tuple[PendingMove, ...]
    moves_in: tuple[PendingMove, ...]
    absences: tuple[OpenAbsence, ...]
    units: dict[int, str]  # the other communes' names, by id

    @property
    def count(self) -> int:
        return len(self.ending) + len(self.moves_out) + len(self.moves_in) + len(self.absences)


async def register(repos: Repositories, unit: Unit) -> list[Entry]:
    """The commune's list as kept, in register order (given name first)."""
    people = await registers.followed(repos.session, repos.participants, unit.id)
    cadres = {c.id: c.name for c in await repos.staff.listed([unit.id], Role.CADRE)}
    people.sort(key=lambda p: sort_key(fold(p.name), p.id))
    return [Entry(p, cadres.get(p.cadre_id, "") if p.cadre_id else "") for p in people]


async def due(repos: Repositories, unit: Unit, today: date) -> DueLists:
    """What the officer must see to soon: terms ending, moves waiting for an answer, unreported absences."""
    horizon = today + timedelta(days=ENDING_DAYS)
    listed = await register(repos, unit)
    ending = sorted((e for e in listed if e.person.expected_end <= horizon), key=lambda e: e.person.expected_end)
    moves = await registers.pending_moves(repos.session, repos.participants, unit.id)
    absences = await registers.unreported_absences(
        repos.session, repos.participants, unit.id, today - timedelta(days=ABSENCE_DAYS)
    )
    others = {m.to_unit_id for m in moves} | {m.from_unit_id for m in moves}
    names = {}
    for other in others:
        found = await repos.units.get(other)
        names[other] = found.name if found else ""
    return DueLists(
        tuple(ending), tuple(m for m in moves if m.from_unit_id == unit.id),
        tuple(m for m in moves if m.to_unit_id == unit.id), tuple(absences), names,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """A person due a quarterly review, and how their cadre rated the quarter (None: not written)."""

    person: Participant
    cadre: str
    progress: str | None


@dataclass(frozen=True, slots=True)
class ReviewList:
    quarter: str
    last_day: date
    entries: tuple[ReviewEntry, ...]

    def counts(self) -> dict[str, int]:
        """The same numbers as the report's reviews_* figures for this quarter."""
        rated = Counter(e.progress for e in self.entries)
        return {"due": len(self.entries), "written": len(self.entries) - rated[None], "missing": rated[None],
                **{progress: rated[progress] for progress in PROGRESS}}  # fmt: skip


async def reviews(repos: Repositories, unit: Unit, quarter: Period, tz: tzinfo) -> ReviewList:
    """The quarterly review (kiểm điểm cuối quý) per person: everyone under management in the commune on the quarter's
    last day (the report's rule: a move or a completion before it takes them off), and the rating or its absence."""
    label, last = quarter.quarter_ends()[-1]
    facts = await repos.reports.facts([unit.id], quarter, tz, results=False, anonymous=False)  # names: on record
    due = [p.id for p in facts.people.values() if p.managed_on(last) and p.unit_on(last) == unit.id]
    rated = {r.participant_id: r.progress for r in facts.reviews if r.quarter == label}
    cadres = {c.id: c.name for c in await repos.staff.listed([unit.id], Role.CADRE)}
    found = await registers.people(repos.session, repos.participants, due)
    found.sort(key=lambda p: sort_key(fold(p.name), p.id))
    entries = tuple(
        ReviewEntry(p, cadres.get(p.cadre_id, "") if p.cadre_id else "", rated.get(p.id)) for p in found
    )
    return ReviewList(label, last, entries)


def quarter_of(text: str | None, today: date) -> Period:
    """The quarter asked ("2026-Q3"), or the last one that has ended; PeriodError for anything else."""
    if not text:
        ended = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
        text = f"{ended.year}-Q{(ended.month - 1) // 3 + 1}"
    period = parse_period(text)
    if not period.label.count("-Q"):
        raise PeriodError(f"{text[:20]!r} is not a quarter: write YYYY-QN")
    return period


def recent_quarters(today: date, count: int = 8) -> list[str]:
    """The quarters an officer picks from: the last one ended first, then the ones before it."""
    last = quarter_of(None, today).first
    return [f"{day.year}-Q{(day.month - 1) // 3 + 1}" for day in (add_months(last, -3 * n) for n in range(count))]


async def record_view(repos: Repositories, operator: Operator, unit: Unit, action: str, **counts: Any) -> None:
    """Names were shown (or written to a file): who, which commune, which list, how many; never a name."""
    await operator.record(repos, action, subject_type="unit", subject_id=unit.id, detail=counts)


# ---- files -------------------------------------------------------------------------------------------------------


def register_xlsx(entries: Sequence[Entry], unit: Unit, t: Translator) -> bytes:
    """The register (Mẫu 52) as an XLSX workbook, every text written as text (nothing in the file is a formula)."""
    headers = [
        t._("No."), t._("Full name"), t._("Year of birth"), t._("Sex"), t._("National ID number"), t._("Address"),
        t._("Decision number"), t._("Decision date"), t._("Start of management"), t._("Expected end"), t._("Cadre"),
        t._("Status"),
    ]  # fmt: skip
    rows = [register_cells(i, e, t) for i, e in enumerate(entries, start=1)]
    return _workbook([(t._("Register"), t._("Register of {commune}", commune=unit.name), headers, rows)])


def register_cells(number: int, entry: Entry, t: Translator) -> list[object]:
    """One register row, as the screen and the file show it."""
    p, reg = entry.person, entry.person.register
    return [
        number, p.name, reg.birth_year, t._(SEX_LABELS[reg.sex.value]) if reg.sex else "", p.national_id or "",
        reg.address or "", reg.decision_no or "", reg.decision_date, p.term_start, p.expected_end, entry.cadre,
        t._(STATUS_LABELS[p.status.value]),
    ]  # fmt: skip


def reviews_xlsx(found: ReviewList, unit: Unit, t: Translator) -> bytes:
    """The quarter's reviews, one row per person due one."""
    headers = [t._("Record no."), t._("Full name"), t._("Year of birth"), t._("Cadre"), t._("Assessment")]
    rows: list[list[object]] = [
        [e.person.id, e.person.name, e.person.register.birth_year, e.cadre, review_text(e.progress, t)]
        for e in found.entries
    ]
    title = t._("Quarterly reviews {quarter}", quarter=found.quarter)
    return _workbook([(t._("Quarterly reviews"), f"{title} — {unit.name}", headers, rows)])


def review_text(progress: str | None, t: Translator) -> str:
    return t._(PROGRESS[progress]) if progress in PROGRESS else t._("Not written")


def due_xlsx(lists: DueLists, unit: Unit, t: Translator) -> bytes:
    """The due list as one workbook, a sheet per part."""
    name = t._("Full name")
    sheets = [
        (t._("Terms ending"), t._("Terms ending in the next {days} days", days=ENDING_DAYS),
         [t._("Record no."), name, t._("Year of birth"), t._("Expected end"), t._("Cadre")],
         [[e.person.id, e.person.name, e.person.register.birth_year, e.person.expected_end, e.cadre]
          for e in lists.ending]),
        (t._("Moving out"), t._("Moves out of the commune not yet accepted"),
         [t._("Record no."), name, t._("To"), t._("Move date")],
         [[m.person.id, m.person.name, lists.units.get(m.to_unit_id, ""), m.moved_on] for m in lists.moves_out]),
        (t._("Moving in"), t._("Moves into the commune to accept"),
         [t._("Record no."), name, t._("From"), t._("Move date")],
         [[m.person.id, m.person.name, lists.units.get(m.from_unit_id, ""), m.moved_on] for m in lists.moves_in]),
        (t._("Absences"), t._("Unreported absences in progress or recent"),
         [t._("Record no."), name, t._("From"), t._("To")],
         [[a.person.id, a.person.name, a.starts_on, a.ends_on] for a in lists.absences]),
    ]  # fmt: skip
    return _workbook([(sheet, f"{title} — {unit.name}", headers, rows) for sheet, title, headers, rows in sheets])


def _workbook(sheets: Sequence[tuple[str, str, list[str], list[list[object]]]]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, OPTIONS)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, title, headers, rows in sheets:
        sheet = book.add_worksheet(name[:31])
        sheet.write_string(0, 0, title, bold)
        for col, header in enumerate(headers):
            sheet.write_string(1, col, header, bold)
            sheet.set_column(col, col, 28 if col in (1, 5) else 14)
        for r, cells in enumerate(rows, start=2):
            for col, value in enumerate(cells):
                write_cell(sheet, r, col, value, day=day)
        sheet.freeze_panes(2, 0)
    book.close()
    return out.getvalue()
