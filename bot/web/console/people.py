"""Danh sách and Thêm người: the list of people a staff member works with, assigning a cadre to many at once, the
list as a spreadsheet, and putting one person on the commune's list.

- GET /console/people: the viewer's own list (a cadre: the people assigned to them; an officer: the commune; an
  admin: the province, or one commune of it), narrowed by status, cadre, risk and the home page's numbers, searched
  by `?q=` (record number, initials, part of the name without diacritics), 50 a page. A plain GET form; with htmx the
  table follows the search box as one types (the `#results` part of the same page). Each showing is audited.
- POST /console/people/assign: the ticked people get the chosen cadre (officer, admin): the service `participant
  assign` uses, every person asked of the authorisation table as loaded; one out of reach refuses the whole request
  (404, nothing changed); one no longer followed (completed, moved out) too, in words, as the record page does.
- GET /console/people.xlsx: the list as shown, every page (officer, admin); audited with the count and the filters.
- GET/POST /console/people/new: the register's fields (Mẫu 52) for the commune's officer; problems next to their
  fields; once saved, the first invite code and a link to print the card.

The rules are in the services (`people_list`, `people_register`); this module reads the request and renders.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.db.store import Repositories
from bot.domain.entities import Role, Unit, UnitLevel
from bot.domain.ids import record_id
from bot.domain.register_import import FIELDS, LABELS
from bot.services import people_list, people_register
from bot.services.access import Refused
from bot.services.operators import StaffOperator
from bot.services.people_list import Filters, Listing
from bot.web.console.kit import Console, Viewer

VIEWERS = {Role.CADRE, Role.OFFICER, Role.ADMIN}
MANAGERS = {Role.OFFICER, Role.ADMIN}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BACK = 2000  # the list's query string a form carries back; longer is not ours


def routes(console: Console) -> list[BaseRoute]:
    def today() -> date:
        return local_today(console.app.clock, console.zone)

    async def shown_list(viewer: Viewer, filters: Filters, action: str, **extra: object) -> Listing | None:
        """The viewer's list as asked, its showing audited; None when the commune asked for is out of their reach
        (the refusal is audited too)."""
        operator = StaffOperator(viewer.staff.id)
        async with console.app.store.transaction() as repos:
            try:
                scope = await people_list.scope_for(repos, viewer.actor, filters.unit, operator)
            except Refused:
                return None
            shown = await people_list.listing(repos, scope, filters, today=today())
            await people_list.record_view(repos, operator, shown, action, **extra)
        return shown

    async def list_page(request: Request, viewer: Viewer) -> Response:
        filters = Filters.parse(request.query_params)
        number = _page_number(request.query_params.get("page", ""))
        shown = await shown_list(viewer, filters, "people_listed", page=number)
        if shown is None:
            return await console.not_found(request, viewer)
        page = shown.page(number)
        partial = (
            request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true"
            and request.headers.get("hx-target") == "results"
        )
        template = "people/results.html" if partial else "people/list.html"
        return console.render(
            request, viewer, template, shown=shown, page=page, filters=filters, query=_query(filters),
            statuses=people_list.STATUS_LABELS, risks=people_list.RISK_LABELS, today=today(),
            checkin_text=lambda row: people_list.checkin_text(viewer.t, row.checkin, row.checkin_due),
            status_text=lambda row: people_list.status_text(viewer.t, row.status),
            manages=viewer.staff.role in MANAGERS, tick_all=request.query_params.get("tick") == "page",
            narrowed=bool(set(filters.params()) - {"q"}),
            communes={u.id: u.name for u in shown.scope.units}, page_links=_page_links(page.number, page.pages),
        )  # fmt: skip

    async def export(request: Request, viewer: Viewer) -> Response:
        filters = Filters.parse(request.query_params)
        shown = await shown_list(viewer, filters, "people_exported")
        if shown is None:
            return await console.not_found(request, viewer)
        data = people_list.export_xlsx(shown, viewer.t)
        name = f"danh-sach-{today():%Y%m%d}.xlsx"
        return Response(data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})

    async def assign(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        back = "/console/people" + _back(form.get("back"))
        ids = _form_ids(form.getlist("id"))
        cadre = form.get("cadre")
        nobody = isinstance(cadre, str) and cadre.strip() == "0"  # take the cadre away
        cadre_id = None if nobody else record_id(cadre)
        if ids is None or (cadre_id is None and not nobody):
            if ids is not None and cadre == "":
                return console.flash_redirect(back, viewer.t._("Please choose the cadre to assign."))
            return await console.not_found(request, viewer)
        refused = False
        try:
            async with console.app.store.transaction() as repos:
                try:
                    people = await people_list.assign(
                        repos, ids, cadre_id, now=console.app.clock.now(), operator=StaffOperator(viewer.staff.id),
                        by=viewer.actor,
                    )  # fmt: skip
                except Refused:
                    refused = True  # committed: the refusal stays on record, nothing else was changed
                else:
                    member = await repos.staff.get(cadre_id) if cadre_id else None
        except people_list.AssignError as exc:
            return console.flash_redirect(back, _assign_problem(viewer, exc))
        if refused:
            return await console.not_found(request, viewer)
        t = viewer.t
        if member is None:
            message = t._("{count} people no longer have a cadre.", count=len(people))
        else:
            message = t._("{count} people are now followed by {cadre}; the cadre has been told.", count=len(people),
                          cadre=member.name)  # fmt: skip
        return console.flash_redirect(back, message)

    async def new_form(request: Request, viewer: Viewer) -> Response:
        async with console.app.store.transaction() as repos:
            unit = await _own_commune(repos, viewer)
            if unit is None:
                return await console.not_found(request, viewer)
            cadres = await repos.staff.in_unit(unit.id, Role.CADRE)
        values = {"start": today().isoformat(), "term_months": "12", "risk": "medium", "language": "vi"}
        return console.render(request, viewer, "people/new.html", unit=unit, cadres=cadres, values=values,
                              errors={}, problems=[], labels=LABELS, today=today())  # fmt: skip

    async def new_save(request: Request, viewer: Viewer) -> Response:
        cells = _cells(await viewer.form())
        operator = StaffOperator(viewer.staff.id)
        refused = False
        async with console.app.store.transaction() as repos:
            unit = await _own_commune(repos, viewer)
            if unit is None:
                return await console.not_found(request, viewer)
            cadres = await repos.staff.in_unit(unit.id, Role.CADRE)
            try:
                added = await people_register.add(
                    repos, console.app.enrolment(repos, operator), unit, cells, today=today(), operator=operator,
                    by=viewer.actor,
                )  # fmt: skip
            except Refused:
                refused = True
        if refused:
            return await console.not_found(request, viewer)
        if added.participant is None or added.invite is None:
            t = viewer.t
            errors = {f: [p.text(t) for p in problems] for f, problems in added.checked.fields.items()}
            return console.render(
                request, viewer, "people/new.html", status=422, unit=unit, cadres=cadres, values=cells,
                errors=errors, problems=[p.text(t) for p in added.checked.problems], labels=LABELS, today=today(),
            )  # fmt: skip
        return console.render(
            request, viewer, "people/added.html", unit=unit, person=added.participant, invite=added.invite
        )

    return [
        Route("/people", console.page(list_page, roles=VIEWERS), methods=["GET"]),
        Route("/people.xlsx", console.page(export, roles=MANAGERS), methods=["GET"]),
        Route("/people/assign", console.page(assign, roles=MANAGERS, methods=("POST",)), methods=["POST"]),
        Route("/people/new", console.page(new_form, roles={Role.OFFICER}), methods=["GET"]),
        Route("/people/new", console.page(new_save, roles={Role.OFFICER}, methods=("POST",)), methods=["POST"]),
    ]


# ---- reading what the browser sent -----------------------------------------------------------------------------------


def _page_number(text: str) -> int:
    number = record_id(text) if len(text) <= 6 else None
    return number or 1


def _query(filters: Filters) -> str:
    return urlencode(filters.params())


def _back(value: object) -> str:
    """The list to go back to after assigning: its filters read again and written anew (never a URL from the form),
    with its page."""
    if not isinstance(value, str) or len(value) > MAX_BACK:
        return ""
    params = dict(parse_qsl(value.lstrip("?")))
    query = Filters.parse(params).params()
    number = _page_number(params.get("page", ""))
    if number > 1:
        query["page"] = str(number)
    return "?" + urlencode(query) if query else ""


def _page_links(number: int, pages: int) -> list[int | None]:
    """The page numbers to link: the first, the last and two either side of this one; None stands for a gap."""
    wanted = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
    out: list[int | None] = []
    for n in wanted:
        if out and out[-1] is not None and n - out[-1] > 1:  # type: ignore[operator]
            out.append(None)
        out.append(n)
    return out


def _form_ids(values: list[object]) -> list[int] | None:
    """The ticked boxes' ids; None when any is not an id (a forged form). Too many is the service's to refuse."""
    ids = [record_id(value) for value in values]
    if any(i is None for i in ids):
        return None
    return [i for i in ids if i is not None]


def _cells(form: FormData) -> dict[str, str]:
    """The register's fields as text, as a spreadsheet cell would hold them (a file where text belongs is empty)."""
    out: dict[str, str] = {}
    for name in FIELDS:
        value = form.get(name)
        out[name] = value if isinstance(value, str) else ""
    return out


async def _own_commune(repos: Repositories, viewer: Viewer) -> Unit | None:
    """The officer's commune (people are added to the viewer's own list only)."""
    unit = await repos.units.get(viewer.staff.unit_id)
    return unit if unit is not None and unit.level is UnitLevel.COMMUNE else None


def _assign_problem(viewer: Viewer, exc: people_list.AssignError) -> str:
    t = viewer.t
    if exc.why == "nobody":
        return t._("Please choose at least one person.")
    if exc.why == "too_many":
        return t._("At most {count} people can be assigned at a time.", count=people_list.MAX_ASSIGN)
    if exc.why == "gone":
        return t._("This person is no longer on the list (already completed or moved).")
    return t._("This cadre cannot follow everyone chosen: a cadre follows people of their own commune.")
