"""The staff console under /console/: server-rendered pages that share every rule with the chat (see kit.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Mount, Router
from starlette.staticfiles import StaticFiles

from bot.web.console import (
    admin,
    auth,
    cards,
    desk,
    home,
    imports,
    people,
    record,
    registers,
    reports,
    requests,
    retention,
)
from bot.web.console.headers import SecurityHeaders
from bot.web.console.kit import STATIC, Console

if TYPE_CHECKING:
    from bot.app import Application

# One line per page group; each module's routes() returns its routes relative to /console.
PAGES = [auth, home, people, imports, cards, desk, record, admin, reports, registers, requests, retention]


def mount(app: Application) -> Mount:
    console = Console(app)
    routes: list[BaseRoute] = [Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")]
    for module in PAGES:
        routes += module.routes(console)
    return Mount("/console", app=SecurityHeaders(Router(routes=routes)))
