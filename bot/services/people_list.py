"""The list of people a staff member works with — the console's *Danh sách* and `aftercare participant list` — once:
whose list it is, how it is narrowed and searched, how it is exported, and assigning a cadre to many at once.

Whose list: the authorisation table's role-level answer, then the actor's own scope in the query: a cadre
(LIST_ASSIGNED) sees the people assigned to them, an officer (LIST_COMMUNE) their commune, an admin (LIST_COMMUNE)
their province's communes, one of them when they choose. Every person listed is also asked VIEW_PARTICIPANT with
their record as loaded, so a list can never show what a record page would refuse. The CLI (the server's operator,
`by` None) names a commune and is not restricted; it is audited like the console.

Narrowing: status (those followed now by default), cadre (or none), risk, and the home page's numbers: this month's
check-in due or overdue, open alerts, an unreachable chat, an urgent support request. Each is counted exactly as
`bot.db.repositories.overview.commune_today` counts it, so a number on the home page and the list it links to agree
(alerts and urgent requests count people of every status, as the home page does, unless a status is asked).

Search (`q`): a record number ("#12" or "12"), initials ("nva" finds Nguyễn Văn An) or part of the name, with or
without diacritics. Names are sealed in the database, so a search cannot be a query: the commune's rows are read
with their names opened (`roster.entries`), then matched here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.core.i18n import N_, Translator
from bot.db.repositories import roster
from bot.db.repositories.roster import Entry, MonthCheckin
from bot.db.store import Repositories
from bot.documents.workbook import OPTIONS, write_cell
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.entities import Participant, ParticipantStatus, RiskLevel, Role, StaffMember, Unit, UnitLevel
from bot.domain.ids import record_id
from bot.domain.planning import ObligationStatus
from bot.domain.text import fold
from bot.services.access import Refused
from bot.services.fieldwork import assign_cadre
from bot.services.operators import Operator

PAGE_SIZE = 50
MAX_QUERY = 100  # characters of a search kept; a name is never longer
MAX_ASSIGN = 2000  # people assigned in one request (a whole commune's list at most)

STATUSES: dict[str, tuple[ParticipantStatus, ...]] = {
    "followed": (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE),
    "enrolled": (ParticipantStatus.ENROLLED,),
    "active": (ParticipantStatus.ACTIVE,),
    "completed": (ParticipantStatus.COMPLETED,),
    "transferred": (ParticipantStatus.TRANSFERRED,),
    "removed": (ParticipantStatus.REMOVED,),
    "all": tuple(ParticipantStatus),
}
STATUS_LABELS: dict[str, str] = {
    "followed": N_("On the list now"),
    "enrolled": N_("Not linked yet"),
    "active": N_("Linked"),
    "completed": N_("Term completed"),
    "transferred": N_("Moved out of the province"),
    "removed": N_("Taken off the list"),
    "all": N_("Everyone, past included"),
}
RISK_LABELS: dict[RiskLevel, str] = {
    RiskLevel.LOW: N_("Low"),
    RiskLevel.MEDIUM: N_("Medium"),
    RiskLevel.HIGH: N_("High"),
}
FLAGS = ("due", "overdue", "alerts", "unreachable", "urgent")


class CheckinState(StrEnum):
    """This month's check-in as the list shows it (the home page's "due" and "overdue" exactly)."""

    NONE = "none"  # nothing planned this month (not linked, term not started, …)
    DUE = "due"  # pending, its day not passed
    OVERDUE = "overdue"  # pending or missed, its day passed
    DONE = "done"
    CANCELLED = "cancelled"
    MISSED = "missed"  # marked missed before its day (not counted as overdue by the home page either)


CHECKIN_LABELS: dict[CheckinState, str] = {
    CheckinState.NONE: N_("Nothing due"),
    CheckinState.DUE: N_("Due"),
    CheckinState.OVERDUE: N_("Overdue"),
    CheckinState.DONE: N_("Done"),
    CheckinState.CANCELLED: N_("Not needed"),
    CheckinState.MISSED: N_("Missed"),
}
CHECKIN_ON: dict[CheckinState, str] = {
    CheckinState.DUE: N_("Due {date}"),
    CheckinState.OVERDUE: N_("Overdue since {date}"),
}


class AssignError(ValueError):
    """The assignment cannot be made as asked (nobody chosen, too many, someone no longer followed, a cadre who
    cannot follow them)."""

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


# ---- what is asked -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    status: str = "followed"
    cadre: int | None = None  # 0: people without a cadre
    risk: RiskLevel | None = None
    due: bool = False
    overdue: bool = False
    alerts: bool = False
    unreachable: bool = False
    urgent: bool = False
    q: str = ""
    unit: int | None = None  # an admin's chosen commune

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """From a query string (the console's links and GET form). Anything unexpected is read as not given: a
        mangled link shows a wider list of the viewer's own scope, never another's."""
        flags = {
            "due": params.get("due", "") in ("month", "1"),
            **{name: params.get(name, "") in ("1", "on", "true") for name in FLAGS if name != "due"},
        }
        status = params.get("status", "")
        if status not in STATUSES:
            status = default_status(flags["alerts"], flags["urgent"])
        risk = params.get("risk", "")
        return cls(
            status=status,
            cadre=_number(params.get("cadre", "")),
            risk=RiskLevel(risk) if risk in {r.value for r in RiskLevel} else None,
            q=" ".join(params.get("q", "").split())[:MAX_QUERY],
            unit=_number(params.get("unit", "")),
            **flags,
        )

    def params(self) -> dict[str, str]:
        """The query string that gives this list again (only what differs from the defaults)."""
        out: dict[str, str] = {}
        if self.q:
            out["q"] = self.q
        if self.unit is not None:
            out["unit"] = str(self.unit)
        if self.status != default_status(self.alerts, self.urgent):
            out["status"] = self.status
        if self.cadre is not None:
            out["cadre"] = str(self.cadre)
        if self.risk is not None:
            out["risk"] = self.risk.value
        if self.due:
            out["due"] = "month"
        for name in ("overdue", "alerts", "unreachable", "urgent"):
            if getattr(self, name):
                out[name] = "1"
        return out

    def audited(self) -> dict[str, Any]:
        """The filters as the audit keeps them: a search only as its kind and length (it may be part of a name)."""
        out: dict[str, Any] = {k: v for k, v in self.params().items() if k != "q"}
        if self.q:
            wanted = fold(self.q).lstrip("#").strip()
            kind = "code" if wanted.isdigit() else "initials" if " " not in wanted and len(wanted) <= 4 else "text"
            out |= {"search": kind, "length": len(self.q)}
        return out


def default_status(alerts: bool, urgent: bool) -> str:
    """Those followed now; the home page counts alerts and urgent requests of everyone, so those links list all."""
    return "all" if alerts or urgent else "followed"


def _number(text: str) -> int | None:
    """An id of the query string, or 0 (`?cadre=0`: people without a cadre); None for anything else."""
    return 0 if text.strip() == "0" else record_id(text)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose list: these communes (one, or an admin's province), and for a cadre only the people assigned to them."""

    units: tuple[Unit, ...]
    communes: tuple[Unit, ...] = ()  # what an admin may choose among (their province's communes)
    chosen: Unit | None = None  # the one commune shown, when it is one
    cadre_id: int | None = None
    actor: Actor | None = None  # None: the server's operator (CLI)

    @classmethod
    def commune(cls, unit: Unit) -> Scope:
        """The operator's view of one commune (the CLI)."""
        if unit.level is not UnitLevel.COMMUNE:
            raise ValueError(f"{unit.code} is a province: name one of its communes")
        return cls((unit,), chosen=unit)


async def scope_for(repos: Repositories, actor: Actor, unit_id: int | None, operator: Operator) -> Scope:
    """The viewer's own list, as the authorisation table allows; asking for a commune out of reach is `Refused`
    (audited in the caller's transaction, which commits it)."""
    own = await repos.units.get(actor.unit_id) if actor.unit_id is not None else None
    if own is not None and decide(actor, Action.LIST_ASSIGNED):
        if unit_id is not None and unit_id != own.id:
            raise await _refuse(repos, operator, Action.LIST_ASSIGNED, unit_id, "other commune")
        return Scope((own,), chosen=own, cadre_id=actor.id, actor=actor)
    if own is None or not decide(actor, Action.LIST_COMMUNE):
        raise await _refuse(repos, operator, Action.LIST_COMMUNE, unit_id, "role may not")
    if actor.role is Role.ADMIN and own.level is UnitLevel.PROVINCE:
        communes = tuple(u for u in await repos.units.all() if u.level is UnitLevel.COMMUNE and u.parent_id == own.id)
        if unit_id is None:
            return Scope(communes, communes=communes, actor=actor)
        chosen = next((u for u in communes if u.id == unit_id), None)
        if chosen is None:
            raise await _refuse(repos, operator, Action.LIST_COMMUNE, unit_id, "other province")
        return Scope((chosen,), communes=communes, chosen=chosen, actor=actor)
    if own.level is not UnitLevel.COMMUNE or (unit_id is not None and unit_id != own.id):
        raise await _refuse(repos, operator, Action.LIST_COMMUNE, unit_id, "other commune")
    return Scope((own,), chosen=own, actor=actor)


async def _refuse(repos: Repositories, operator: Operator, action: Action, unit_id: int | None, reason: str) -> Refused:
    await operator.record(
        repos, f"denied:{action.value}", subject_type="unit", subject_id=unit_id, outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return Refused("not allowed")


# ---- the list ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    unit_id: int
    name: str
    birth_year: int | None
    status: ParticipantStatus
    cadre_id: int | None
    cadre_name: str | None
    risk: RiskLevel
    term_start: date
    expected_end: date
    checkin: CheckinState
    checkin_due: date | None
    open_alerts: int
    urgent: int
    unreachable: bool


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[Row, ...]
    number: int  # from 1
    pages: int
    size: int

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list, from 1 (0 when it is empty)."""
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


@dataclass(frozen=True, slots=True)
class Listing:
    scope: Scope
    filters: Filters
    rows: tuple[Row, ...]
    cadres: tuple[StaffMember, ...]  # the scope's cadres, closed accounts too (their names are on rows)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def open_alerts(self) -> int:
        return sum(r.open_alerts for r in self.rows)

    @property
    def urgent(self) -> int:
        return sum(r.urgent for r in self.rows)

    @property
    def active_cadres(self) -> tuple[StaffMember, ...]:
        return tuple(c for c in self.cadres if c.active)

    def page(self, number: int, size: int = PAGE_SIZE) -> Page:
        pages = max(1, -(-len(self.rows) // size))
        number = min(max(number, 1), pages)
        start = (number - 1) * size
        return Page(self.rows[start : start + size], number, pages, size)


def checkin_state(checkin: MonthCheckin | None, today: date) -> CheckinState:
    if checkin is None:
        return CheckinState.NONE
    if checkin.status is ObligationStatus.DONE:
        return CheckinState.DONE
    if checkin.status is ObligationStatus.CANCELLED:
        return CheckinState.CANCELLED
    if checkin.due_on < today:
        return CheckinState.OVERDUE
    return CheckinState.DUE if checkin.status is ObligationStatus.PENDING else CheckinState.MISSED


class Search:
    """What was typed, folded once: a record number ("#12", "12"), initials ("nva") or part of the name, with or
    without diacritics. Names are matched in their folded form (`fold`), each folded once per list."""

    def __init__(self, query: str) -> None:
        self.wanted = fold(query).lstrip("#").strip()
        self.compact = self.wanted.replace(" ", "")

    def __bool__(self) -> bool:
        return bool(self.wanted)

    def matches(self, folded_name: str, participant_id: int) -> bool:
        if not self.wanted:
            return True
        if self.wanted.isdigit():
            return str(participant_id) == self.wanted
        words = folded_name.split()
        return self.compact == "".join(w[0] for w in words) or self.wanted in folded_name


def matches(name: str, participant_id: int, query: str) -> bool:
    """Whether `query` finds this person (see `Search`); `initials` and `fold` are the domain's."""
    search = Search(query)
    return search.matches(fold(name), participant_id) if search else True


def sort_key(folded_name: str, participant_id: int) -> tuple[str, str, int]:
    """By given name, then the whole name, as Vietnamese registers are ordered ("An" before "Bình" whatever the
    family name); the record number breaks ties."""
    return (folded_name.rsplit(" ", 1)[-1], folded_name, participant_id)


async def listing(repos: Repositories, scope: Scope, filters: Filters, *, today: date) -> Listing:
    """Everyone in the scope the filters and the search keep, in register order."""
    unit_ids = [u.id for u in scope.units]
    cadre_id = scope.cadre_id if scope.cadre_id is not None else (filters.cadre or None)
    entries = await roster.entries(
        repos.session, repos.participants, unit_ids, STATUSES[filters.status], cadre_id=cadre_id,
        without_cadre=scope.cadre_id is None and filters.cadre == 0, risk=filters.risk,
    )  # fmt: skip
    facts = await roster.facts(repos.session, unit_ids, today)
    cadres = tuple(await repos.staff.listed(unit_ids, Role.CADRE)) if unit_ids else ()
    names = {c.id: c.name for c in cadres}
    may_view = _viewer(scope)
    search = Search(filters.q)
    rows: list[tuple[tuple[str, str, int], Row]] = []
    for entry in entries:
        if not may_view(entry):
            continue
        folded = fold(entry.name)
        if search and not search.matches(folded, entry.id):
            continue
        row = _row(entry, names, facts, today)
        if _kept(row, filters):
            rows.append((sort_key(folded, entry.id), row))
    rows.sort(key=lambda pair: pair[0])
    return Listing(scope, filters, tuple(row for _, row in rows), cadres)


def _viewer(scope: Scope) -> Callable[[Entry], bool]:
    """Whether the scope's actor may view a person (VIEW_PARTICIPANT with the record as loaded); the operator may.
    A staff member's answer depends on the record's commune and cadre only, so it is asked once per such pair."""
    actor = scope.actor
    if actor is None:
        return lambda _entry: True
    provinces = {u.id: u.parent_id for u in scope.units}
    answers: dict[tuple[int, int | None], bool] = {}

    def may_view(entry: Entry) -> bool:
        key = (entry.unit_id, entry.cadre_id)
        if key not in answers:
            target = ParticipantScope(entry.id, entry.unit_id, provinces.get(entry.unit_id), entry.cadre_id)
            answers[key] = bool(decide(actor, Action.VIEW_PARTICIPANT, target))
        return answers[key]

    return may_view


def _row(entry: Entry, cadres: Mapping[int, str], facts: roster.Facts, today: date) -> Row:
    checkin = facts.checkins.get(entry.id)
    return Row(
        id=entry.id, unit_id=entry.unit_id, name=entry.name, birth_year=entry.birth_year, status=entry.status,
        cadre_id=entry.cadre_id, cadre_name=cadres.get(entry.cadre_id) if entry.cadre_id else None, risk=entry.risk,
        term_start=entry.term_start, expected_end=entry.expected_end, checkin=checkin_state(checkin, today),
        checkin_due=checkin.due_on if checkin else None, open_alerts=facts.open_alerts.get(entry.id, 0),
        urgent=facts.urgent.get(entry.id, 0), unreachable=entry.id in facts.unreachable,
    )  # fmt: skip


def _kept(row: Row, filters: Filters) -> bool:
    if filters.due and row.checkin is not CheckinState.DUE:
        return False
    if filters.overdue and row.checkin is not CheckinState.OVERDUE:
        return False
    if filters.alerts and not row.open_alerts:
        return False
    if filters.unreachable and not row.unreachable:
        return False
    return not (filters.urgent and not row.urgent)


async def record_view(repos: Repositories, operator: Operator, shown: Listing, action: str, **extra: Any) -> None:
    """Names were shown (or written to a file): who, whose list, how many, how it was narrowed; never a name."""
    chosen = shown.scope.chosen
    await operator.record(
        repos, action, subject_type="unit", subject_id=chosen.id if chosen else None,
        detail={"count": shown.total, "filters": shown.filters.audited(), **extra},
    )  # fmt: skip


# ---- export ----------------------------------------------------------------------------------------------------------


def export_xlsx(shown: Listing, t: Translator) -> bytes:
    """The list as shown, every row, as an XLSX workbook: numbers as numbers, dates as dates, and every text written
    as text (a name that starts with "=" stays a name; nothing in the file is a formula)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, OPTIONS)
    sheet = book.add_worksheet(t._("The list")[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    communes = {u.id: u.name for u in shown.scope.units}
    several = len(communes) > 1
    headers = [
        t._("Record no."), t._("Full name"), t._("Year of birth"), *([t._("Commune")] if several else []), t._("Cadre"),
        t._("Risk level"), t._("Status"), t._("This month's check-in"), t._("Check-in day"),
        t._("Start of management"), t._("Expected end"), t._("Open alerts"), t._("Urgent referrals"),
    ]  # fmt: skip
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    for r, row in enumerate(shown.rows, start=1):
        cells: list[object] = [
            row.id, row.name, row.birth_year, *([communes.get(row.unit_id, "")] if several else []),
            row.cadre_name or "", t._(RISK_LABELS[row.risk]), status_text(t, row.status),
            checkin_text(t, row.checkin, None), row.checkin_due, row.term_start, row.expected_end, row.open_alerts,
            row.urgent,
        ]  # fmt: skip
        for col, value in enumerate(cells):
            write_cell(sheet, r, col, value, day=day)
    widths = [7, 28, 9, *([20] if several else []), 22, 12, 16, 18, 12, 14, 14, 10, 12]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(shown.rows), 1), len(headers) - 1)
    book.close()
    return out.getvalue()


def status_text(t: Translator, status: ParticipantStatus) -> str:
    return t._(STATUS_LABELS[status.value])


def checkin_text(t: Translator, state: CheckinState, due: date | None) -> str:
    """The state in words; with `due`, the day in it ("Due 10/12/2026"), without it the day is a column of its own."""
    if due is not None and state in CHECKIN_ON:
        return t._(CHECKIN_ON[state], date=t.date(due))
    return t._(CHECKIN_LABELS[state])


# ---- assigning a cadre to many ---------------------------------------------------------------------------------------


async def assign(
    repos: Repositories,
    ids: Sequence[int],
    cadre_id: int | None,
    *,
    now: datetime,
    operator: Operator,
    by: Actor | None = None,
) -> list[Participant]:
    """Assign (or with None, take away) the cadre of everyone in `ids`, as `participant assign` does for each: the
    new cadre is told and sees them at once, the old one loses access at once. Every person is asked ASSIGN_CADRE
    for `by` with their record as loaded before anything changes: one out of reach (or unknown) refuses the whole
    request (`Refused`, audited; nothing changed). One no longer followed (completed, moved out: the record page
    refuses them a cadre too) is an `AssignError` ("gone"; nothing changed), as is a cadre who cannot follow them
    all."""
    chosen = list(dict.fromkeys(ids))
    if not chosen:
        raise AssignError("nobody", "choose at least one person")
    if len(chosen) > MAX_ASSIGN:
        raise AssignError("too_many", f"at most {MAX_ASSIGN} people at a time")
    people: list[Participant] = []
    parents: dict[int, int | None] = {}
    for participant_id in chosen:
        person = await repos.participants.get(participant_id)
        if person is None:
            if by is None:
                raise LookupError(f"no participant {participant_id}")
            raise await _refuse_person(repos, operator, participant_id, "no such record")
        if by is not None:
            if person.unit_id not in parents:
                unit = await repos.units.get(person.unit_id)
                parents[person.unit_id] = unit.parent_id if unit else None
            scope = ParticipantScope(person.id, person.unit_id, parents[person.unit_id], person.cadre_id)
            decision = decide(by, Action.ASSIGN_CADRE, scope)
            if not decision:
                raise await _refuse_person(repos, operator, participant_id, decision.reason)
        people.append(person)
    if any(p.status not in STATUSES["followed"] for p in people):
        raise AssignError("gone", "only people on the list now (enrolled or active) can be given a cadre")
    if cadre_id is not None:
        cadre = await repos.staff.get(cadre_id)
        fits = cadre is not None and cadre.role is Role.CADRE and cadre.active
        if not fits or any(p.unit_id != cadre.unit_id for p in people):  # type: ignore[union-attr]
            raise AssignError("cadre", "the cadre must be an active cadre of every chosen person's commune")
    for person in people:
        await assign_cadre(repos, person, cadre_id, None, now, operator)
    return people


async def _refuse_person(repos: Repositories, operator: Operator, participant_id: int, reason: str) -> Refused:
    await operator.record(
        repos, f"denied:{Action.ASSIGN_CADRE.value}", subject_type="participant", subject_id=participant_id,
        outcome="denied", detail={"reason": reason},
    )  # fmt: skip
    return Refused("not allowed")
