"""Tổng quan: the first page after signing in. An officer sees the commune's numbers for today, each a link to the
list filtered to those people; everyone sees what is waiting for them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.db.repositories.overview import commune_today
from bot.domain.entities import Role
from bot.web.console.kit import Console, Viewer


def routes(console: Console) -> list[BaseRoute]:
    async def home(request: Request, viewer: Viewer) -> Response:
        today = console.app.clock.now().astimezone(console.zone).date()
        numbers = None
        async with console.app.store.transaction() as repos:
            unit = await repos.units.get(viewer.staff.unit_id)
            if viewer.staff.role is Role.OFFICER:
                numbers = await commune_today(repos.session, viewer.staff.unit_id, today)
            waiting = await _waiting(repos, viewer.staff.id)
        return console.render(request, viewer, "home.html", unit=unit, numbers=numbers, today=today, waiting=waiting)

    return [Route("/", console.page(home), methods=["GET"])]


async def _waiting(repos: object, staff_id: int) -> list[object]:
    """Notifications raised before this staff member linked a chat: kept for them, shown here meanwhile."""
    outbox = getattr(repos, "outbox", None)
    query = getattr(outbox, "waiting_for_staff", None)
    return list(await query(staff_id)) if query is not None else []
