"""The province's administration: its communes (seeded from the official list; each commune's check-in due day and
test place), its counselling points and their hours, its staff, and the audit log. A commune's officer uses the
staff pages for the cadres and counsellors of their own commune.

Every action asks the authorisation table with the record as the database has it: MANAGE_UNITS over a unit (a
commune, the province, the unit a counselling point serves), MANAGE_STAFF over a staff account (before and after a
change of role, unit or point). A record out of reach, or none, is the same 404 and the attempt is audited. The
console adds no rule: seeding is `bot.services.seeding`, opening hours are read by `bot.domain.opening` (as
`aftercare point add/hours`), a commune's schedule is `repos.units.configure` (as `aftercare unit set`), closing and
reopening an account `bot.services.access`, a new role, unit or point `bot.services.staff_changes`.

- GET /console/admin/units · POST …/units/seed (a dry run first, then `confirm`) · GET/POST …/units/{id}
- GET/POST /console/admin/points · POST …/points/{id}/hours
- GET/POST /console/admin/staff (list with filters; add: the invite code is shown once) · GET …/staff/{id} ·
  POST …/staff/{id}/placement | deactivate | activate | invite
- GET /console/admin/audit: who, what, which record, when, outcome; never content (see `safe_detail`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.i18n import N_, SUPPORTED_LANGUAGES, Translator
from bot.db.repositories import province_admin
from bot.db.repositories.province_admin import RECORD_TYPES, AuditFilter
from bot.db.store import Repositories
from bot.domain import opening
from bot.domain.authz import Action, StaffScope, UnitScope, decide
from bot.domain.entities import CounsellingPoint, Role, StaffMember, Unit, UnitLevel
from bot.domain.ids import record_id
from bot.services import access, seeding, staff_changes
from bot.services.operators import StaffOperator
from bot.web.console.kit import Console, Viewer

ADMINS = {Role.ADMIN}
MANAGERS = {Role.ADMIN, Role.OFFICER}  # the staff pages: an officer for their commune's cadres and counsellors
ROLE_NAMES = {Role.CADRE: N_("Cadre"), Role.COUNSELLOR: N_("Counsellor"), Role.OFFICER: N_("Officer"),
              Role.ADMIN: N_("Admin")}  # fmt: skip
RECORD_NAMES = {"participant": N_("Person on the list"), "staff": N_("Staff member"), "unit": N_("Unit"),
                "point": N_("Counselling point")}  # fmt: skip
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
OUTCOMES = {"ok": N_("Succeeded"), "denied": N_("Refused"), "refused": N_("Refused")}  # others: as recorded
STAFF_PAGE = 100
AUDIT_PAGE = 50
AUDIT_YEARS = (2000, 2100)  # the audit filter's dates: outside these years a date is unreadable (and no entry's)
# The commune's test settings on the admin's pages, behind a sign-in and never in a notification: they may name
# tests (the catalog check allows these; what participants see of them is worded as an appointment).
STAFF_VIEW_MSGIDS = frozenset({"Where tests take place", "Test hours", "Tests"})
LIMITS = {"name": 200, "address": 300, "phone": 40, "hours": 200, "test_place": 300, "test_hours": 100}
# Audit details: numbers and yes/no under any key; text only under these keys, and only short codes (a reason, a
# channel, a role), never free text; everything else (an OS account, anything a later version adds) is left out.
TEXT_KEYS = {"reason", "kind", "purpose", "channel", "channels", "view", "setting", "via", "route", "method",
             "province", "from_role", "to_role", "fields", "filters", "why", "check", "outcome", "unit", "period",
             "format", "indicator", "month", "permission", "quarter"}  # fmt: skip
_CODE = re.compile(r"^[A-Za-z0-9_:./{}\- ]{1,60}$")
_KEY = re.compile(r"^[a-z_]{1,32}$")


class Problem(Exception):
    """A form the viewer can correct: the message is already in their language."""


def routes(console: Console) -> list[BaseRoute]:
    clock, store = console.app.clock, console.app.store

    def operator(viewer: Viewer) -> StaffOperator:
        return StaffOperator(viewer.staff.id)

    async def denied(request: Request, viewer: Viewer, action: Action, subject: tuple[str, int | None], why: str
                     ) -> Response:  # fmt: skip
        """Out of reach or no such record: audited, then the same 404 as a record that does not exist."""
        async with store.transaction() as repos:
            await repos.audit.record(
                actor_type="staff", actor_id=viewer.staff.id, action=f"denied:{action.value}", outcome="denied",
                subject_type=subject[0], subject_id=subject[1], detail={"reason": why},
            )  # fmt: skip
        return await console.not_found(request, viewer)

    # -- units -----------------------------------------------------------------------------------------------------

    async def units_page(request: Request, viewer: Viewer, *, status: int = 200, problem: str = "",
                         typed: str | None = None) -> Response:  # fmt: skip
        async with store.transaction() as repos:
            province = await _province(repos, viewer)
            if province is None:
                return await console.not_found(request, viewer)
            communes = await _communes(repos, province)
            numbers = await province_admin.commune_numbers(repos.session, province.id)
        return console.render(
            request, viewer, "admin/units.html", status=status, province=province, communes=communes,
            numbers=numbers, problem=problem, typed=province.name if typed is None else typed,
        )  # fmt: skip

    async def units(request: Request, viewer: Viewer) -> Response:
        return await units_page(request, viewer)

    async def seed(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        typed = _field(form, "province")[:200]
        confirm = form.get("confirm") == "1"
        refused = False
        try:
            async with store.transaction() as repos:
                try:
                    result = await seeding.seed_province(repos, viewer.actor, typed, dry_run=not confirm)
                except access.Refused:
                    refused = True  # committed with the transaction: the refusal stays on record
        except seeding.SeedError as exc:
            return await units_page(request, viewer, status=400, problem=exc.explain(viewer.t), typed=typed)
        if refused:
            message = viewer.t._("You can add communes/wards only to your own province.")
            return await units_page(request, viewer, status=403, problem=message, typed=typed)
        if not confirm:
            return console.render(request, viewer, "admin/seed_preview.html", result=result, typed=typed)
        return console.flash_redirect("/console/admin/units", result.summary(viewer.t))

    async def commune(request: Request, viewer: Viewer) -> Response:
        unit_id = _path_id(request, "unit_id")
        async with store.transaction() as repos:
            unit = await _unit_in_reach(repos, viewer, unit_id, communes_only=True)
        if unit is None:
            return await denied(request, viewer, Action.MANAGE_UNITS, ("unit", unit_id), "unit out of reach")
        return console.render(request, viewer, "admin/unit.html", unit=unit, problem="", values=None)

    async def configure(request: Request, viewer: Viewer) -> Response:
        unit_id = _path_id(request, "unit_id")
        form = await viewer.form()
        async with store.transaction() as repos:
            unit = await _unit_in_reach(repos, viewer, unit_id, communes_only=True)
            if unit is not None:
                try:
                    due_day = _due_day(viewer.t, form)
                    place = _text(viewer.t, form, "test_place", N_("Where tests take place"))
                    hours = _text(viewer.t, form, "test_hours", N_("Test hours"))
                except Problem as exc:
                    values = {k: _field(form, k)[:400] for k in ("due_day", "test_place", "test_hours")}
                    return console.render(
                        request, viewer, "admin/unit.html", status=400, unit=unit, problem=str(exc), values=values
                    )
                unit = await repos.units.configure(unit.id, due_day=due_day, test_place=place, test_hours=hours)
                await operator(viewer).record(repos, "unit_configured", subject_type="unit", subject_id=unit.id)
        if unit is None:
            return await denied(request, viewer, Action.MANAGE_UNITS, ("unit", unit_id), "unit out of reach")
        message = viewer.t._("Saved: check-ins in {unit} are due on day {day} of each month.", unit=unit.name,
                             day=unit.checkin_due_day)  # fmt: skip
        return console.flash_redirect("/console/admin/units", message)

    # -- counselling points ----------------------------------------------------------------------------------------

    async def points_page(request: Request, viewer: Viewer, *, status: int = 200, problem: str = "",
                          values: dict[str, str] | None = None) -> Response:  # fmt: skip
        async with store.transaction() as repos:
            province = await _province(repos, viewer)
            if province is None:
                return await console.not_found(request, viewer)
            places = [province, *await _communes(repos, province)]
            names = {u.id: u.name for u in places}
            listed = []
            for point in await repos.points.listed([u.id for u in places]):
                counsellors = len(await repos.staff.counsellors_of(point.id))
                shown = opening.read(point.hours).describe(viewer.t)
                listed.append((point, names.get(point.unit_id, ""), counsellors, shown))
        return console.render(
            request, viewer, "admin/points.html", status=status, points=listed, places=places, problem=problem,
            values=values or {},
        )  # fmt: skip

    async def points(request: Request, viewer: Viewer) -> Response:
        return await points_page(request, viewer)

    async def add_point(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        unit_id = _form_id(form, "unit")
        values = {k: _field(form, k)[:400] for k in ("unit", "name", "address", "phone", "hours")}
        problem, point = "", None
        async with store.transaction() as repos:
            unit = await _unit_in_reach(repos, viewer, unit_id)
            if unit is not None:
                try:
                    name = _text(viewer.t, form, "name", N_("Name"), required=True)
                    address = _text(viewer.t, form, "address", N_("Address"))
                    phone = _text(viewer.t, form, "phone", N_("Phone"))
                    hours = _hours(viewer.t, form)
                except Problem as exc:
                    problem = str(exc)
                else:
                    enrolment = console.app.enrolment(repos, operator(viewer))
                    point = await enrolment.add_point(unit.code, name, address, phone, hours)
        if unit is None:
            return await denied(request, viewer, Action.MANAGE_UNITS, ("unit", unit_id), "point in a unit out of reach")
        if problem or point is None:
            return await points_page(request, viewer, status=400, problem=problem, values=values)
        return console.flash_redirect(
            "/console/admin/points", viewer.t._("Counselling point added: {name}.", name=point.name)
        )

    async def point_hours(request: Request, viewer: Viewer) -> Response:
        point_id = _path_id(request, "point_id")
        form = await viewer.form()
        problem = ""
        async with store.transaction() as repos:
            point = await repos.points.get(point_id) if point_id is not None else None
            unit = await _unit_in_reach(repos, viewer, point.unit_id) if point else None
            if unit is not None and point is not None:
                try:
                    hours = _hours(viewer.t, form)
                except Problem as exc:
                    problem = str(exc)
                else:
                    await console.app.enrolment(repos, operator(viewer)).set_point_hours(point.id, hours)
        if unit is None or point is None:
            return await denied(request, viewer, Action.MANAGE_UNITS, ("point", point_id), "point out of reach")
        if problem:
            values = {"hours_point": str(point.id), "hours": _field(form, "hours")[:400]}
            return await points_page(request, viewer, status=400, problem=problem, values=values)
        message = viewer.t._("Opening hours saved: {name}.", name=point.name)
        return console.flash_redirect("/console/admin/points", message)

    # -- staff -----------------------------------------------------------------------------------------------------

    async def staff_page(request: Request, viewer: Viewer, *, status: int = 200, problem: str = "",
                         values: dict[str, str] | None = None) -> Response:  # fmt: skip
        query = request.query_params
        async with store.transaction() as repos:
            reach = await _reach(repos, viewer)
            if reach is None:
                return await console.not_found(request, viewer)
            places = reach.places
            chosen_unit = record_id(query.get("unit"))
            if query.get("unit") and (chosen_unit is None or chosen_unit not in {u.id for u in places}):
                return await console.not_found(request, viewer)
            role = _role(query.get("role"))
            state = query.get("status") if query.get("status") in ("active", "closed") else ""
            members = await repos.staff.listed([chosen_unit] if chosen_unit else [u.id for u in places], role)
            if state:
                members = [m for m in members if m.active is (state == "active")]
            page = max(1, min(record_id(query.get("page")) or 1, 10_000))
            shown = members[(page - 1) * STAFF_PAGE : page * STAFF_PAGE]
            chats = await province_admin.linked_chats(repos.session, [m.id for m in shown])
            points = {p.id: p.name for p in reach.points}
            await operator(viewer).record(
                repos, "staff_listed", subject_type="unit", subject_id=chosen_unit or reach.places[0].id,
                detail={"count": len(members)},
            )  # fmt: skip
        names = {u.id: u.name for u in places}
        rows = [(m, names.get(m.unit_id, ""), points.get(m.point_id or 0, ""), chats.get(m.id, 0),
                 bool(decide(viewer.actor, Action.MANAGE_STAFF, reach.scope(m)))) for m in shown]  # fmt: skip
        filters = {"unit": str(chosen_unit or ""), "role": role.value if role else "", "status": state}
        return console.render(
            request, viewer, "admin/staff.html", status=status, rows=rows, total=len(members), page=page,
            more=len(members) > page * STAFF_PAGE, filters=filters, places=places, roles=reach.roles,
            points=reach.points, problem=problem, values=values or {}, role_names=ROLE_NAMES,
            languages=LANGUAGE_NAMES,
        )  # fmt: skip

    async def staff(request: Request, viewer: Viewer) -> Response:
        return await staff_page(request, viewer)

    async def add_staff(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        values = {k: _field(form, k)[:400] for k in ("name", "role", "unit", "point", "language")}
        role, unit_id, point_id = _role(_field(form, "role")), _form_id(form, "unit"), _form_id(form, "point")
        language = _field(form, "language") or viewer.language
        async with store.transaction() as repos:
            reach = await _reach(repos, viewer)
            unit = reach.place(unit_id) if reach else None
            allowed = reach is not None and unit is not None and role is not None and bool(
                decide(viewer.actor, Action.MANAGE_STAFF, StaffScope(0, role, unit.id, unit.parent_id))
            )  # the account as it would be: an officer adds cadres and counsellors of their own commune only
            problem, added = "", None
            if allowed and reach is not None and unit is not None and role is not None:
                point = reach.point(point_id)
                try:
                    name = _text(viewer.t, form, "name", N_("Full name"), required=True)
                    if language not in SUPPORTED_LANGUAGES:
                        raise Problem(viewer.t._("Choose the language of their chat."))
                    where = reach.place(point.unit_id) if point else None
                    kind = staff_changes.placement_problem(role, unit, point, where)
                    if point_id is not None and point is None:
                        kind = "point_elsewhere"  # not a point this viewer may place anyone at
                    if kind:
                        raise Problem(staff_changes.StaffChangeError(kind).explain(viewer.t))
                except Problem as exc:
                    problem = str(exc)
                else:
                    enrolment = console.app.enrolment(repos, operator(viewer))
                    added = await enrolment.add_staff(name, role, unit.code, point_id, language)
        if not allowed:
            return await denied(request, viewer, Action.MANAGE_STAFF, ("staff", None), "new account out of reach")
        if problem or added is None:
            return await staff_page(request, viewer, status=400, problem=problem, values=values)
        member, invite = added
        return console.render(request, viewer, "admin/invite.html", member=member, invite=invite, new=True,
                              role_names=ROLE_NAMES)  # fmt: skip

    async def member_page(request: Request, viewer: Viewer, staff_id: int | None, *, status: int = 200,
                          problem: str = "") -> Response:  # fmt: skip
        async with store.transaction() as repos:
            reach = await _reach(repos, viewer)
            member = await repos.staff.get(staff_id) if staff_id is not None and reach else None
            if reach is None or member is None or not await _may_manage(repos, viewer, member):
                found = None
            else:
                found = member
                chats = await repos.identities.count_of(staff_id=member.id)
                unit = await repos.units.get(member.unit_id)
                point = await repos.points.get(member.point_id) if member.point_id else None
        if found is None or reach is None:
            return await denied(request, viewer, Action.MANAGE_STAFF, ("staff", staff_id), "account out of reach")
        return console.render(
            request, viewer, "admin/staff_member.html", status=status, member=found, unit=unit, point=point,
            chats=chats, places=reach.places, roles=reach.roles, points=reach.points, problem=problem,
            role_names=ROLE_NAMES,
        )  # fmt: skip

    async def member(request: Request, viewer: Viewer) -> Response:
        return await member_page(request, viewer, _path_id(request, "staff_id"))

    async def placement(request: Request, viewer: Viewer) -> Response:
        staff_id = _path_id(request, "staff_id")
        form = await viewer.form()
        role, unit_id, point_id = _role(_field(form, "role")), _form_id(form, "unit"), _form_id(form, "point")
        if staff_id is None or role is None or unit_id is None or (_field(form, "point") and point_id is None):
            return await denied(request, viewer, Action.MANAGE_STAFF, ("staff", staff_id), "forged form")
        new = staff_changes.Placement(role, unit_id, point_id)
        refused, problem = False, ""
        async with store.transaction() as repos:
            try:
                changed = await staff_changes.change_placement(
                    repos, staff_id, new, operator(viewer), clock.now(), by=viewer.actor
                )
            except access.Refused:
                refused = True  # committed: the refusal stays on record
            except staff_changes.StaffChangeError as exc:
                problem = exc.explain(viewer.t)
        if refused:
            return await console.not_found(request, viewer)
        if problem:
            return await member_page(request, viewer, staff_id, status=400, problem=problem)
        t = viewer.t
        parts = [t._("Saved. Their console sessions have ended: they sign in again with their new role.")]
        if changed.people_without_cadre:
            parts.append(t._("People left without a cadre (the officers have been told): {n}.",
                             n=len(changed.people_without_cadre)))  # fmt: skip
        if changed.referrals_released:
            parts.append(t._("Support requests back at the counselling point: {n}.",
                             n=len(changed.referrals_released)))  # fmt: skip
        return console.flash_redirect(f"/console/admin/staff/{staff_id}", " ".join(parts))

    async def deactivate(request: Request, viewer: Viewer) -> Response:
        staff_id = _path_id(request, "staff_id")
        if staff_id is None:
            return await console.not_found(request, viewer)
        refused = False
        async with store.transaction() as repos:
            try:
                done = await access.deactivate_staff(repos, staff_id, operator(viewer), clock.now(), by=viewer.actor)
            except access.Refused:
                refused = True
        if refused:
            return await console.not_found(request, viewer)
        t = viewer.t
        parts = [t._("The account is closed: their chats are unlinked and their console sessions have ended.")]
        if done.people_without_cadre:
            parts.append(t._("People left without a cadre (the officers have been told): {n}.",
                             n=len(done.people_without_cadre)))  # fmt: skip
        return console.flash_redirect(f"/console/admin/staff/{staff_id}", " ".join(parts))

    async def activate(request: Request, viewer: Viewer) -> Response:
        staff_id = _path_id(request, "staff_id")
        if staff_id is None:
            return await console.not_found(request, viewer)
        refused = False
        async with store.transaction() as repos:
            try:
                await access.activate_staff(repos, staff_id, operator(viewer), by=viewer.actor)
            except access.Refused:
                refused = True
        if refused:
            return await console.not_found(request, viewer)
        message = viewer.t._("The account is open again. Give them a new invite code to link their chat.")
        return console.flash_redirect(f"/console/admin/staff/{staff_id}", message)

    async def invite(request: Request, viewer: Viewer) -> Response:
        staff_id = _path_id(request, "staff_id")
        form = await viewer.form()
        closed = False
        async with store.transaction() as repos:
            reach = await _reach(repos, viewer)
            member = await repos.staff.get(staff_id) if staff_id is not None and reach else None
            allowed = reach is not None and member is not None and await _may_manage(repos, viewer, member)
            issued = None
            if allowed and member is not None:
                if member.active:
                    enrolment = console.app.enrolment(repos, operator(viewer))
                    issued = await enrolment.issue_staff_invite(member.id, revoke_chats=form.get("revoke") == "1")
                else:
                    closed = True
        if not allowed or member is None:
            return await denied(request, viewer, Action.MANAGE_STAFF, ("staff", staff_id), "account out of reach")
        if closed or issued is None:
            message = viewer.t._("This account is closed. Open it again before giving a new invite code.")
            return console.flash_redirect(f"/console/admin/staff/{member.id}", message)
        return console.render(request, viewer, "admin/invite.html", member=member, invite=issued, new=False,
                              role_names=ROLE_NAMES)  # fmt: skip

    # -- the audit log ---------------------------------------------------------------------------------------------

    async def audit(request: Request, viewer: Viewer) -> Response:
        query = request.query_params
        problems: list[str] = []
        since, until = _date(query.get("from")), _date(query.get("to"))
        if (query.get("from") and since is None) or (query.get("to") and until is None):
            problems.append(viewer.t._("Please give dates as day/month/year."))
        kind = query.get("type") if query.get("type") in RECORD_TYPES else None
        action = (query.get("action") or "").strip()
        if action and not _CODE.match(action):
            problems.append(viewer.t._("An action is a short code such as staff_added or denied:."))
            action = ""
        filters = AuditFilter(
            actor_id=record_id(query.get("staff")),
            subject_type=kind,
            subject_id=record_id(query.get("record")),
            action=action[:48] or None,
            since=_start_of(since, console) if since else None,
            until=_start_of(until + timedelta(days=1), console) if until else None,
        )
        before = record_id(query.get("before"))
        async with store.transaction() as repos:
            province = await _province(repos, viewer)
            if province is None:
                return await console.not_found(request, viewer)
            places = [province, *await _communes(repos, province)]
            staff = {m.id: m for m in await repos.staff.listed([u.id for u in places])}
            rows = await province_admin.province_audit(
                repos.session, province.id, filters, before=before, limit=AUDIT_PAGE + 1
            )
            used = sorted(k for k, v in _vars_of(filters).items() if v is not None) + (["page"] if before else [])
            await operator(viewer).record(
                repos, "audit_viewed", subject_type="unit", subject_id=province.id,
                detail={"entries": min(len(rows), AUDIT_PAGE), "filters": ",".join(used)},
            )  # fmt: skip
        entries = [_entry(viewer.t, row, staff, console) for row in rows[:AUDIT_PAGE]]
        older = rows[AUDIT_PAGE - 1].id if len(rows) > AUDIT_PAGE else None
        kept = {k: query.get(k, "")[:60] for k in ("staff", "type", "record", "action", "from", "to")}
        return console.render(
            request, viewer, "admin/audit.html", entries=entries, older=older, kept=kept, problems=problems,
            staff=sorted(staff.values(), key=lambda m: (m.name, m.id)), record_names=RECORD_NAMES,
            role_names=ROLE_NAMES, actions=sorted({e.action for e in entries}), first=before is None,
        )  # fmt: skip

    def get(path: str, handler: Any, roles: set[Role]) -> Route:
        return Route(path, console.page(handler, roles=roles), methods=["GET"])

    def post(path: str, handler: Any, roles: set[Role]) -> Route:
        return Route(path, console.page(handler, roles=roles, methods=("POST",)), methods=["POST"])

    return [
        get("/admin/units", units, ADMINS),
        post("/admin/units/seed", seed, ADMINS),
        get("/admin/units/{unit_id}", commune, ADMINS),
        post("/admin/units/{unit_id}", configure, ADMINS),
        get("/admin/points", points, ADMINS),
        post("/admin/points", add_point, ADMINS),
        post("/admin/points/{point_id}/hours", point_hours, ADMINS),
        get("/admin/staff", staff, MANAGERS),
        post("/admin/staff", add_staff, MANAGERS),
        get("/admin/staff/{staff_id}", member, MANAGERS),
        post("/admin/staff/{staff_id}/placement", placement, MANAGERS),
        post("/admin/staff/{staff_id}/deactivate", deactivate, MANAGERS),
        post("/admin/staff/{staff_id}/activate", activate, MANAGERS),
        post("/admin/staff/{staff_id}/invite", invite, MANAGERS),
        get("/admin/audit", audit, ADMINS),
    ]


# -- where the viewer's reach ends ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reach:
    """What the staff pages offer the viewer: the units (an admin's province and its communes; an officer's commune),
    the roles they may give, the counselling points a counsellor there may belong to. Offering is not permitting:
    every action asks the authorisation table again with the record as stored."""

    province: Unit
    places: list[Unit]
    roles: list[Role]
    points: list[CounsellingPoint]

    def place(self, unit_id: int | None) -> Unit | None:
        return next((u for u in self.places if u.id == unit_id), None) or (
            self.province if unit_id == self.province.id else None
        )

    def point(self, point_id: int | None) -> CounsellingPoint | None:
        return next((p for p in self.points if p.id == point_id), None)

    def scope(self, member: StaffMember) -> StaffScope:
        unit = self.place(member.unit_id)
        return StaffScope(member.id, member.role, member.unit_id, unit.parent_id if unit else None)


async def _province(repos: Repositories, viewer: Viewer) -> Unit | None:
    province_id = viewer.actor.province_id
    unit = await repos.units.get(province_id) if province_id is not None else None
    return unit if unit is not None and unit.level is UnitLevel.PROVINCE else None


async def _communes(repos: Repositories, province: Unit) -> list[Unit]:
    units = [u for u in await repos.units.all() if u.parent_id == province.id and u.level is UnitLevel.COMMUNE]
    return sorted(units, key=lambda u: (u.name, u.code))


async def _reach(repos: Repositories, viewer: Viewer) -> Reach | None:
    province = await _province(repos, viewer)
    if province is None:
        return None
    if viewer.staff.role is Role.ADMIN:
        places = [province, *await _communes(repos, province)]
        roles = [Role.CADRE, Role.COUNSELLOR, Role.OFFICER, Role.ADMIN]
        points = await repos.points.listed([u.id for u in places])
    else:
        own = await repos.units.get(viewer.staff.unit_id)
        if own is None:
            return None
        places, roles = [own], [Role.CADRE, Role.COUNSELLOR]
        points = await repos.points.listed([own.id, province.id])
    return Reach(province, places, roles, points)


async def _may_manage(repos: Repositories, viewer: Viewer, member: StaffMember) -> bool:
    """MANAGE_STAFF over the account as stored (its unit read from the database, not from what the page offered)."""
    unit = await repos.units.get(member.unit_id)
    scope = StaffScope(member.id, member.role, member.unit_id, unit.parent_id if unit else None)
    return bool(decide(viewer.actor, Action.MANAGE_STAFF, scope))


async def _unit_in_reach(
    repos: Repositories, viewer: Viewer, unit_id: int | None, *, communes_only: bool = False
) -> Unit | None:
    """The unit, if the viewer may set it up (MANAGE_UNITS with the unit as stored); None otherwise or none."""
    unit = await repos.units.get(unit_id) if unit_id is not None else None
    if unit is None or (communes_only and unit.level is not UnitLevel.COMMUNE):
        return None
    return unit if decide(viewer.actor, Action.MANAGE_UNITS, UnitScope(unit.id, unit.parent_id)) else None


# -- reading forms and queries -------------------------------------------------------------------------------------


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _form_id(form: FormData, key: str) -> int | None:
    return record_id(_field(form, key))


def _path_id(request: Request, name: str) -> int | None:
    return record_id(request.path_params.get(name))


def _role(value: object) -> Role | None:
    try:
        return Role(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(t: Translator, form: FormData, key: str, label: str, *, required: bool = False) -> str:
    """A text field within its column's length; empty is refused only when `required`."""
    text = _field(form, key)
    if required and not text:
        raise Problem(t._("Please fill in: {field}.", field=t._(label)))
    limit = LIMITS.get(key, 200)
    if len(text) > limit:
        raise Problem(t._("{field} is too long (at most {limit} characters).", field=t._(label), limit=limit))
    return text


def _hours(t: Translator, form: FormData) -> str:
    """Opening hours as `aftercare point add/hours` reads them; a text the bot cannot read is refused, not guessed."""
    text = _text(t, form, "hours", N_("Opening hours"))
    try:
        opening.parse(text)
    except opening.OpeningHoursError:
        raise Problem(
            t._("The opening hours “{hours}” cannot be read. Write the days, then the hours, for example: "
                "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00 (or leave it empty: no fixed hours).", hours=text)
        ) from None  # fmt: skip
    return text


def _due_day(t: Translator, form: FormData) -> int:
    day = record_id(_field(form, "due_day"))
    if day is None or not 1 <= day <= 28:
        raise Problem(t._("The due day is a day of the month from 1 to 28, so every month has it."))
    return day


def _date(value: str | None) -> date | None:
    """`YYYY-MM-DD` (a date input) or `dd/mm/yyyy` (typed by hand), in AUDIT_YEARS: a year outside them is unreadable
    (9999-12-31 has no next day, 0001-01-01 no start in UTC, and no entry is from then)."""
    if not value or len(value) > 20:
        return None
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            found = date(year, month, day)
        else:
            found = date.fromisoformat(text)
    except ValueError:
        return None
    return found if AUDIT_YEARS[0] <= found.year <= AUDIT_YEARS[1] else None


def _start_of(day: date, console: Console) -> datetime:
    return datetime.combine(day, time(0), tzinfo=console.zone)


def _vars_of(filters: AuditFilter) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in AuditFilter.__dataclass_fields__}


# -- showing audit entries -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: str
    who: str
    action: str
    record: str
    record_link: str
    outcome: str
    detail: list[tuple[str, str]]


def safe_detail(detail: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What of an entry's detail is shown: numbers and yes/no, and short codes under known keys — never free text,
    never the OS account an operator ran under."""
    shown: list[tuple[str, str]] = []
    for key, value in sorted((detail or {}).items()):
        if not isinstance(key, str) or not _KEY.match(key) or key == "os_user":
            continue
        if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 10**12):
            shown.append((key, str(value).lower() if isinstance(value, bool) else str(value)))
        elif key in TEXT_KEYS and isinstance(value, str) and _CODE.match(value):
            shown.append((key, value))
        elif key in TEXT_KEYS and isinstance(value, list) and all(isinstance(v, str) and _CODE.match(v) for v in value):
            shown.append((key, ", ".join(value[:10])))
        elif isinstance(value, list):
            shown.append((key, f"[{len(value)}]"))  # how many, not which
    return shown


def _who(t: Translator, row: Any, staff: dict[int, StaffMember]) -> str:
    member = staff.get(row.actor_id) if row.actor_id is not None else None
    named = f"{member.name} (#{member.id}, {t._(ROLE_NAMES[member.role])})" if member else ""
    if row.actor_type == "staff":
        return named or t._("Staff member #{id}", id=row.actor_id)
    if row.actor_type == "operator":
        server = t._("Server operator (command line)")
        return f"{server} — {named}" if named else server
    if row.actor_type == "participant":
        return t._("Person on the list #{id}", id=row.actor_id)
    if row.actor_type == "scheduler":
        return t._("The system (schedule)")
    if row.actor_type == "anonymous":
        return t._("Not signed in")
    return t._("The system ({source})", source=str(row.actor_type)[:16])


def _entry(t: Translator, row: Any, staff: dict[int, StaffMember], console: Console) -> Entry:
    record, link = "", ""
    if row.subject_type in RECORD_NAMES:
        record = f"{t._(RECORD_NAMES[row.subject_type])} #{row.subject_id}" if row.subject_id else t._(
            RECORD_NAMES[row.subject_type]
        )
        if row.subject_id and row.subject_type == "staff":
            link = f"/console/admin/staff/{row.subject_id}"
        elif row.subject_id and row.subject_type == "participant":
            link = f"/console/people/{row.subject_id}"
    return Entry(
        row.id, console.local_time(row.at), _who(t, row, staff), str(row.action), record, link,
        t._(OUTCOMES[row.outcome]) if row.outcome in OUTCOMES else str(row.outcome), safe_detail(row.detail),
    )
