"""Sổ theo dõi and Sắp đến hạn: the commune's named lists for its own officer (VIEW_NAMED_LIST), beside the report.

- GET /console/reports/register (.xlsx): the register as kept (Mẫu 52).
- GET /console/reports/due (.xlsx): terms ending in the next 30 days, moves not yet accepted (out of and into the
  commune), unreported absences in progress or recent.
- GET /console/reports/reviews (.xlsx) `?quarter=YYYY-QN` (default: the last quarter ended): the quarterly review per
  person due one (good / fair / concerning, or not written).

`?unit=CODE` may name the commune; another's, a province's or an unknown code is the same 404, audited. Every
showing and every file is audited with its counts, never a name (`bot.services.register_lists`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.db.store import Repositories
from bot.domain.entities import Role, Unit
from bot.domain.reports.period import Period, PeriodError
from bot.services import register_lists
from bot.services.access import Refused
from bot.services.operators import StaffOperator
from bot.services.register_lists import ReviewList
from bot.web.console.kit import Console, Viewer
from bot.web.console.reports import asked_code

OFFICERS = {Role.OFFICER}
T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(console: Console) -> list[BaseRoute]:
    store = console.app.store

    def today() -> date:
        return local_today(console.app.clock, console.zone)

    async def opened(
        request: Request,
        viewer: Viewer,
        action: str,
        load: Callable[[Repositories, Unit], Awaitable[T]],
        counts: Callable[[T], dict[str, int]],
    ) -> tuple[Unit, T] | None:
        """The commune and its list, the showing audited; None when out of reach (the refusal audited too)."""
        operator = StaffOperator(viewer.staff.id)
        async with store.transaction() as repos:
            own = await repos.units.get(viewer.staff.unit_id)
            code = asked_code(request.query_params.get("unit"), own)
            try:
                unit = await register_lists.commune_in_reach(repos, code, viewer.actor, operator)
            except Refused:
                return None
            found = await load(repos, unit)
            await register_lists.record_view(repos, operator, unit, action, **counts(found))
        return unit, found

    async def entries(repos: Repositories, unit: Unit) -> list[register_lists.Entry]:
        return await register_lists.register(repos, unit)

    async def due_lists(repos: Repositories, unit: Unit) -> register_lists.DueLists:
        return await register_lists.due(repos, unit, today())

    def listed(found: list[register_lists.Entry]) -> dict[str, int]:
        return {"count": len(found)}

    def due_counts(lists: register_lists.DueLists) -> dict[str, int]:
        return {"count": lists.count, "ending": len(lists.ending), "moves_out": len(lists.moves_out),
                "moves_in": len(lists.moves_in), "absences": len(lists.absences)}  # fmt: skip

    async def register_page(request: Request, viewer: Viewer) -> Response:
        shown = await opened(request, viewer, "register_listed", entries, listed)
        if shown is None:
            return await console.not_found(request, viewer)
        unit, found = shown
        rows = [register_lists.register_cells(i, e, viewer.t) for i, e in enumerate(found, start=1)]
        return console.render(request, viewer, "reports/register.html", unit=unit, rows=rows)

    async def register_file(request: Request, viewer: Viewer) -> Response:
        shown = await opened(request, viewer, "register_exported", entries, listed)
        if shown is None:
            return await console.not_found(request, viewer)
        unit, found = shown
        return _file(
            register_lists.register_xlsx(found, unit, viewer.t), f"so-theo-doi-{unit.code}-{today():%Y%m%d}.xlsx"
        )

    async def due_page(request: Request, viewer: Viewer) -> Response:
        shown = await opened(request, viewer, "due_listed", due_lists, due_counts)
        if shown is None:
            return await console.not_found(request, viewer)
        unit, lists = shown
        return console.render(request, viewer, "reports/due.html", unit=unit, lists=lists, today=today(),
                              days=register_lists.ENDING_DAYS)  # fmt: skip

    async def due_file(request: Request, viewer: Viewer) -> Response:
        shown = await opened(request, viewer, "due_exported", due_lists, due_counts)
        if shown is None:
            return await console.not_found(request, viewer)
        unit, lists = shown
        return _file(register_lists.due_xlsx(lists, unit, viewer.t), f"sap-den-han-{unit.code}-{today():%Y%m%d}.xlsx")

    def quarter(request: Request, viewer: Viewer) -> Period | None:
        try:
            return register_lists.quarter_of(request.query_params.get("quarter"), today())
        except PeriodError:
            return None

    def review_counts(found: register_lists.ReviewList) -> dict[str, int]:
        return {"quarter": found.quarter, **found.counts()}  # type: ignore[dict-item]

    async def reviews_shown(request: Request, viewer: Viewer, action: str) -> tuple[Unit, ReviewList] | None:
        chosen = quarter(request, viewer)
        if chosen is None:
            return None

        async def load(repos: Repositories, unit: Unit) -> register_lists.ReviewList:
            return await register_lists.reviews(repos, unit, chosen, console.zone)

        return await opened(request, viewer, action, load, review_counts)

    async def reviews_page(request: Request, viewer: Viewer) -> Response:
        if quarter(request, viewer) is None:
            message = viewer.t._("Please choose a quarter as YYYY-QN, for example 2026-Q3.")
            return console.render(request, viewer, "error.html", status=400, message=message)
        shown = await reviews_shown(request, viewer, "reviews_listed")
        if shown is None:
            return await console.not_found(request, viewer)
        unit, found = shown
        rows = [(e, register_lists.review_text(e.progress, viewer.t)) for e in found.entries]
        return console.render(request, viewer, "reports/reviews.html", unit=unit, found=found, rows=rows,
                              counts=found.counts(), choices=register_lists.recent_quarters(today()))  # fmt: skip

    async def reviews_file(request: Request, viewer: Viewer) -> Response:
        shown = await reviews_shown(request, viewer, "reviews_exported")
        if shown is None:
            return await console.not_found(request, viewer)
        unit, found = shown
        return _file(register_lists.reviews_xlsx(found, unit, viewer.t), f"kiem-diem-{unit.code}-{found.quarter}.xlsx")

    return [
        Route("/reports/reviews", console.page(reviews_page, roles=OFFICERS), methods=["GET"]),
        Route("/reports/reviews.xlsx", console.page(reviews_file, roles=OFFICERS), methods=["GET"]),
        Route("/reports/register", console.page(register_page, roles=OFFICERS), methods=["GET"]),
        Route("/reports/register.xlsx", console.page(register_file, roles=OFFICERS), methods=["GET"]),
        Route("/reports/due", console.page(due_page, roles=OFFICERS), methods=["GET"]),
        Route("/reports/due.xlsx", console.page(due_file, roles=OFFICERS), methods=["GET"]),
    ]


def _file(data: bytes, name: str) -> Response:
    return Response(data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})
