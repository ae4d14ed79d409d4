"""Sắp xoá dữ liệu: who of the commune will have their records purged in the next 30 days (name, the day they left
the list and why, the purge's day), for the commune's officer and the province's admin (VIEW_RETENTION).

- GET /console/retention `?unit=CODE` (default: the viewer's own unit): another commune's, an unknown code alike,
  is the same 404, audited. Every showing is audited with its count, never a name (`bot.services.retention`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.core.i18n import N_
from bot.domain.entities import Role
from bot.services import retention
from bot.services.access import Refused
from bot.services.operators import StaffOperator
from bot.web.console.kit import Console, Viewer
from bot.web.console.reports import asked_code

REASONS = {
    "completed": N_("Term completed"),
    "transferred": N_("Moved out of the province"),
    "removed": N_("Taken off the list"),
}


def routes(console: Console) -> list[BaseRoute]:
    store = console.app.store
    days = console.app.settings.retention_days

    async def page(request: Request, viewer: Viewer) -> Response:
        today = local_today(console.app.clock, console.zone)
        async with store.transaction() as repos:
            own = await repos.units.get(viewer.staff.unit_id)
            code = asked_code(request.query_params.get("unit"), own)
            try:
                unit, found = await retention.upcoming(
                    repos, code, today, days, viewer.actor, StaffOperator(viewer.staff.id)
                )
            except Refused:
                found = None
        if found is None:
            return await console.not_found(request, viewer)
        rows = [(u, viewer.t._(REASONS.get(u.status, u.status))) for u in found]
        return console.render(request, viewer, "retention/list.html", unit=unit, rows=rows, days=days,
                              window=retention.UPCOMING_DAYS)  # fmt: skip

    return [Route("/retention", console.page(page, roles={Role.OFFICER, Role.ADMIN}), methods=["GET"])]
