"""A person's record (`/console/people/<id>`): the term, the register, the timeline, and what the viewer's role may do
from it. The page holds no rule: what is shown is `bot.services.record` (the chat card's visibility: answers only with
the person's consent, tests only for roles that may see them, never a counsellor's words), who may do what is the
authorisation table's answer with the record as the database has it now, and each action is the service the chat
and the CLI use. Out of reach and unknown are the same 404; every opening and every refusal is audited.

- GET  /console/people/{id}: the record (officer, cadre — their assigned people only —, admin); for a commune's
  officer whose commune a person is moving into, the hand-over notice (Mẫu 53) to accept or decline instead.
- POST …/cadre (ASSIGN_CADRE), …/absence (MANAGE_LIST, `services.absences`), …/reports/{report} (CONFIRM_REPORT: a
  cadre's report of an absence or a move, `services.fieldwork`), …/transfer/{transfer} (ACCEPT_TRANSFER, asked with
  the receiving commune's scope), …/invite (MANAGE_LIST, `Enrolment.issue_participant_invite`: the code is shown
  once), GET/POST …/register (MANAGE_LIST, `services.record.edit_register`).
- The completion of the term and its certificate are the cards module's (…/complete, …/certificate.pdf); the page
  includes its partial.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.core.i18n import N_
from bot.db.repositories.fieldwork import FieldReport
from bot.db.store import Repositories
from bot.domain.authz import Action, ParticipantScope, decide
from bot.domain.entities import FOLLOWED, Participant, Role, StaffMember, Unit, UnitLevel
from bot.domain.fieldwork import ReportKind, ReportStatus
from bot.domain.ids import record_id
from bot.flows.caseload import (
    CATEGORY_NAMES,
    ESCALATION_NAMES,
    IN_PERSON_NAMES,
    OUTCOME_NAMES,
    REFERRAL_KINDS,
    REFERRAL_STATUS,
    SUBSTANCE_NAMES,
)
from bot.flows.reviews import PROGRESS_NAMES
from bot.services import fieldwork
from bot.services import record as records
from bot.services.absences import AbsenceError, implausible, record_absence
from bot.services.operators import StaffOperator
from bot.web.console.kit import Console, Viewer

VIEWERS = {Role.OFFICER, Role.CADRE, Role.ADMIN}
MANAGERS = {Role.OFFICER, Role.ADMIN}
REASON_LIMIT = 500  # an absence's reason: a sentence or two; a pasted page is refused, not stored

STATUS_NAMES = {
    "enrolled": N_("On the list, chat not linked yet"),
    "active": N_("On the list, chat linked"),
    "completed": N_("Term completed"),
    "transferred": N_("Moved out of the province"),
    "removed": N_("Taken off the list"),
}
RISK_NAMES = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High")}
SEX_NAMES = {"male": N_("Male"), "female": N_("Female")}
LABELS = {
    "in_person": IN_PERSON_NAMES,
    "outcome": OUTCOME_NAMES,
    "substance": SUBSTANCE_NAMES,
    "category": CATEGORY_NAMES,
    "referral_kind": REFERRAL_KINDS,
    "referral_status": REFERRAL_STATUS,
    "alert": ESCALATION_NAMES,
    "progress": PROGRESS_NAMES,
    "status": STATUS_NAMES,
    "risk": RISK_NAMES,
    "sex": SEX_NAMES,
}

Work = Callable[[Repositories, Participant], Awaitable[str | None]]


class _Undone(Exception):
    """The action could not be completed: nothing of it is kept (the transaction rolls back); the words say why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def routes(console: Console) -> list[BaseRoute]:
    def today() -> date:
        return local_today(console.app.clock, console.zone)

    def page(request: Request) -> str:
        return f"/console/people/{request.path_params['participant_id']}"

    async def act(request: Request, viewer: Viewer, action: Action, work: Work) -> Response:
        """The shape of every action: the person as the database has them, asked of the authorisation table (a refusal
        is audited and is the same 404 as nobody), then the work, which returns the flash message (None: not found)."""
        participant_id = _path_id(request)
        if participant_id is None:
            return await console.not_found(request, viewer)
        try:
            async with console.app.store.transaction() as repos:
                operator = StaffOperator(viewer.staff.id)
                person = await records.permitted(repos, viewer.actor, action, participant_id, operator)
                message = await work(repos, person) if person is not None else None
        except _Undone as undone:
            return console.flash_redirect(page(request), undone.message)
        if message is None:
            return await console.not_found(request, viewer)
        return console.flash_redirect(page(request), message)

    # ---- the page ---------------------------------------------------------------------------------------------------

    async def show(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        if participant_id is None:
            return await console.not_found(request, viewer)
        operator = StaffOperator(viewer.staff.id)
        handover = None
        may: dict[str, bool] = {}
        cadres: list[StaffMember] = []
        communes: list[Unit] = []
        pending: list[tuple[FieldReport, str]] = []  # a cadre's reports to confirm, each in words
        async with console.app.store.transaction() as repos:
            record = await records.open_record(
                repos, participant_id, by=viewer.actor, operator=operator, today=today(), zone=console.zone
            )
            if record is None and viewer.staff.role is Role.OFFICER:
                handover = await records.incoming(repos, participant_id, by=viewer.actor, operator=operator)
            if record is not None:
                may = _may(viewer, record.scope)
                cadres = await repos.staff.in_unit(record.person.unit_id, Role.CADRE) if may["assign"] else []
                moving = any(r.kind is ReportKind.MOVE for r in record.pending_reports)
                communes = await _other_communes(repos, record.person.unit_id) if moving and may["confirm"] else []
                for found in record.pending_reports if may["confirm"] else []:
                    reporter = await repos.staff.get(found.reported_by)
                    pending.append((found, _reported(viewer, found, reporter.name if reporter else "—")))
        if record is None:
            if handover is not None:
                return console.render(request, viewer, "record/handover.html", handover=handover, labels=LABELS)
            return await console.not_found(request, viewer)
        return console.render(
            request, viewer, "record/record.html", record=record, person=record.person, today=today(), may=may,
            cadres=cadres, communes=communes, pending=pending, labels=LABELS, reason_limit=REASON_LIMIT,
        )  # fmt: skip

    # ---- actions ----------------------------------------------------------------------------------------------------

    async def assign(request: Request, viewer: Viewer) -> Response:
        chosen = _optional_id((await viewer.form()).get("cadre"))

        async def work(repos: Repositories, person: Participant) -> str | None:
            t = viewer.t
            if chosen is None:  # not an id: a forged form
                return None
            if person.status not in FOLLOWED:
                return t._("This person is no longer on the list (already completed or moved).")
            cadre_id = chosen or None  # 0: nobody for now
            try:
                await fieldwork.assign_cadre(repos, person, cadre_id, viewer.staff.id, console.app.clock.now())
            except fieldwork.FieldworkError:
                return t._("That cadre cannot take this person.")
            cadre = await repos.staff.get(cadre_id) if cadre_id else None
            if cadre is None:
                return t._("Done: nobody accompanies {who} for now.", who=f"#{person.id}")
            return t._("Done: {cadre} now accompanies {who}.", cadre=cadre.name, who=f"#{person.id}")

        return await act(request, viewer, Action.ASSIGN_CADRE, work)

    async def absence(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        first, last = _day(form.get("first")), _day(form.get("last"))
        reported = {"yes": True, "no": False}.get(str(form.get("reported", "")))
        reason = form.get("reason")
        reason = " ".join(reason.split()) if isinstance(reason, str) else ""

        async def work(repos: Repositories, person: Participant) -> str | None:
            t = viewer.t
            if person.status not in FOLLOWED:
                return t._("This person is no longer on the list (already completed or moved).")
            if first is None or last is None or last < first:
                return t._("Please give the first and the last day away as day/month/year.")
            if implausible(first, last, today()):
                return t._("Those dates look wrong (more than a year away, or years from today). Please check them.")
            if reported is None:
                return t._("Please say whether the absence was reported in advance.")
            if len(reason) > REASON_LIMIT:
                return t._(
                    "The reason is too long ({length} characters; at most {limit}). Nothing was recorded.",
                    length=len(reason), limit=REASON_LIMIT,
                )  # fmt: skip
            try:
                _, end = await record_absence(
                    repos, person.id, first, last, reported=reported, reason=reason or None, by_staff=viewer.staff.id
                )
            except AbsenceError:
                return t._("Please give the first and the last day away as day/month/year.")
            days = (last - first).days + 1
            recorded = t.n_("Recorded: {n} day away.", "Recorded: {n} days away.", days)
            return f"{recorded} {t._('Expected end of the term: {date}', date=t.date(end))}"

        return await act(request, viewer, Action.MANAGE_LIST, work)

    async def report(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        report_id = record_id(request.path_params["report_id"])
        decision = str(form.get("decision", ""))
        to_unit = _optional_id(form.get("to_unit"))

        async def work(repos: Repositories, person: Participant) -> str | None:
            t = viewer.t
            found = await repos.fieldwork.report(report_id) if report_id is not None else None
            if found is None or found.participant_id != person.id or found.unit_id != person.unit_id:
                await StaffOperator(viewer.staff.id).record(
                    repos, "denied:confirm_report", subject_type="participant", subject_id=person.id,
                    outcome="denied", detail={"reason": "no such report"},
                )  # fmt: skip
                return None
            if decision not in ("confirm", "reject"):
                return None
            if found.status is not ReportStatus.PENDING:
                return t._("Another officer has already decided this.")
            if decision == "reject":
                if not await fieldwork.reject_report(repos, found, viewer.staff.id):
                    return t._("Another officer has already decided this.")
                return t._("Noted: the report was not correct. Nothing changes on the record.")
            unit_id = None
            if found.kind is ReportKind.MOVE:
                choices = {u.id for u in await _other_communes(repos, person.unit_id)} | {0}
                if to_unit is None or to_unit not in choices:
                    return t._("Please choose the receiving commune.")
                unit_id = to_unit or None
                if unit_id is not None and await repos.fieldwork.has_pending_transfer(person.id):
                    return t._("A hand-over for this person is already waiting for a receiving commune.")
            now = console.app.clock.now()
            try:
                done = await fieldwork.confirm_report(repos, found, viewer.staff.id, now, today(), unit_id)
            except fieldwork.FieldworkError:
                raise _Undone(t._("A hand-over for this person is already waiting for a receiving commune.")) from None
            if done is None:
                return t._("Another officer has already decided this.")
            if done.new_end is not None:
                return t._(
                    "Confirmed. Expected end of the term for {who}: {date}", who=f"#{person.id}",
                    date=t.date(done.new_end),
                )  # fmt: skip
            if done.transfer_id is not None:
                return t._(
                    "Confirmed. The receiving commune has the hand-over notice; the record moves when they accept."
                )
            return t._(
                "Confirmed. No commune of the province receives the record: please hand it over outside this assistant."
            )

        return await act(request, viewer, Action.CONFIRM_REPORT, work)

    async def transfer(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        transfer_id = record_id(request.path_params["transfer_id"])
        decision = str((await viewer.form()).get("decision", ""))
        if participant_id is None or transfer_id is None or decision not in ("accept", "decline"):
            return await console.not_found(request, viewer)
        async with console.app.store.transaction() as repos:
            found = await records.arriving(
                repos, transfer_id, participant_id, by=viewer.actor, operator=StaffOperator(viewer.staff.id)
            )
            decided = found is not None and await fieldwork.decide_transfer(
                repos, transfer_id, decision == "accept", viewer.staff.id
            )
        t = viewer.t
        if found is None:
            return await console.not_found(request, viewer)
        if not decided:
            return console.flash_redirect("/console/", t._("Another officer has already decided this."))
        if decision == "accept":
            message = t._("{who} is now on your list. Please assign a cadre.", who=f"#{participant_id}")
            return console.flash_redirect(page(request), message)
        return console.flash_redirect("/console/", t._("Declined. The sending commune keeps the record."))

    async def invite(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        if participant_id is None:
            return await console.not_found(request, viewer)
        issued = None
        async with console.app.store.transaction() as repos:
            operator = StaffOperator(viewer.staff.id)
            person = await records.permitted(repos, viewer.actor, Action.MANAGE_LIST, participant_id, operator)
            if person is not None and person.status in FOLLOWED:
                issued = await console.app.enrolment(repos, operator).issue_participant_invite(person.id)
        if person is None:
            return await console.not_found(request, viewer)
        if issued is None:
            message = viewer.t._("This person is no longer on the list (already completed or moved).")
            return console.flash_redirect(page(request), message)
        return console.render(request, viewer, "record/invite.html", person=person, invite=issued)

    async def register(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        if participant_id is None:
            return await console.not_found(request, viewer)
        problems: list[str] = []
        typed: dict[str, str] | None = None
        async with console.app.store.transaction() as repos:
            operator = StaffOperator(viewer.staff.id)
            person = await records.permitted(repos, viewer.actor, Action.MANAGE_LIST, participant_id, operator)
            if person is not None and request.method == "POST":
                form = await viewer.form()
                typed = {name: _text(form.get(name)) for name in records.REGISTER_FIELDS}
                try:
                    await records.edit_register(repos, person, typed, today=today(), operator=operator)
                except records.RegisterRejected as rejected:
                    problems = [p.text(viewer.t) for p in rejected.problems]
                else:
                    typed = None
            elif person is not None:
                await operator.record(
                    repos, "participant_viewed", subject_type="participant", subject_id=person.id,
                    detail={"page": "register"},
                )  # fmt: skip
        if person is None:
            return await console.not_found(request, viewer)
        if request.method == "POST" and not problems:
            return console.flash_redirect(page(request), viewer.t._("The register is saved."))
        values = typed if typed is not None else _register_values(person)
        return console.render(
            request, viewer, "record/register.html", person=person, values=values, problems=problems,
            status=400 if problems else 200,
        )  # fmt: skip

    base = "/people/{participant_id:int}"
    return [
        Route(base, console.page(show, roles=VIEWERS), methods=["GET"]),
        Route(f"{base}/cadre", console.page(assign, roles=MANAGERS, methods=("POST",)), methods=["POST"]),
        Route(f"{base}/absence", console.page(absence, roles=MANAGERS, methods=("POST",)), methods=["POST"]),
        Route(
            f"{base}/reports/{{report_id:int}}",
            console.page(report, roles={Role.OFFICER}, methods=("POST",)),
            methods=["POST"],
        ),
        Route(
            f"{base}/transfer/{{transfer_id:int}}",
            console.page(transfer, roles={Role.OFFICER}, methods=("POST",)),
            methods=["POST"],
        ),
        Route(f"{base}/invite", console.page(invite, roles=MANAGERS, methods=("POST",)), methods=["POST"]),
        Route(
            f"{base}/register",
            console.page(register, roles=MANAGERS, methods=("GET", "POST")),
            methods=["GET", "POST"],
        ),
    ]


# ---- what the viewer may do (the page offers it; every POST asks again) ---------------------------------------------


def _may(viewer: Viewer, scope: ParticipantScope) -> dict[str, bool]:
    return {
        "assign": bool(decide(viewer.actor, Action.ASSIGN_CADRE, scope)),
        "manage": bool(decide(viewer.actor, Action.MANAGE_LIST, scope)),
        "confirm": bool(decide(viewer.actor, Action.CONFIRM_REPORT, scope)),
    }


async def _other_communes(repos: Repositories, unit_id: int) -> list[Unit]:
    """Where a person of this commune can move to within the assistant: the other communes of its province."""
    own = await repos.units.get(unit_id)
    if own is None:
        return []
    return [
        u
        for u in await repos.units.all()
        if u.level is UnitLevel.COMMUNE and u.parent_id == own.parent_id and u.id != own.id
    ]


def _reported(viewer: Viewer, report: FieldReport, reporter: str) -> str:
    """A cadre's report as the officer's desk in the chat words it (the person is the record's own: their number)."""
    t, details = viewer.t, report.details
    if report.kind is ReportKind.ABSENCE:
        first, last = _iso(details.get("first")), _iso(details.get("last"))
        what = t._("away from home from {first} to {last}", first=t.date(first) if first else "—",
                   last=t.date(last) if last else "—")  # fmt: skip
    else:
        moved = _iso(details.get("moved_on"))
        what = t._("moved on {date} to: {where}", date=t.date(moved) if moved else "—",
                   where=str(details.get("where") or "—"))  # fmt: skip
    return t._(
        "{reporter} reports that {who} was {what}.", reporter=reporter, who=f"#{report.participant_id}", what=what
    )


def _iso(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# ---- reading what the browser sent (never trusted beyond its shape) -------------------------------------------------


def _path_id(request: Request) -> int | None:
    return record_id(request.path_params.get("participant_id"))


def _optional_id(value: object) -> int | None:
    """A chosen id; "" or "0" is 0 (nobody, none of the list); None for anything else (a forged form)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "0")):
        return 0
    return record_id(value) if isinstance(value, str) else None


def _day(value: object) -> date | None:
    """A date field: `YYYY-MM-DD` (a date input) or `dd/mm/yyyy` (typed by hand)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 20:
        return None
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _register_values(person: Participant) -> dict[str, str]:
    register = person.register
    return {
        "name": person.name,
        "birth_year": str(register.birth_year or ""),
        "sex": register.sex.value if register.sex else "",
        "national_id": person.national_id or "",
        "address": register.address or "",
        "decision_no": register.decision_no or "",
        "decision_date": register.decision_date.isoformat() if register.decision_date else "",
        "phone": register.phone or "",
    }
