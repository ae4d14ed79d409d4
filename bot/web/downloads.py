"""One-time download of a person's approved copy of their data, for chats that cannot take files (Zalo, the
simulator): GET /copy/<token> shows a page with one button (a link previewer that fetches the page spends nothing);
POST /copy/<token> spends the link and returns a ZIP holding the readable PDF and the JSON, made now from the database
(never stored). A used, expired or unknown link gets the same polite refusal; every download and refusal is audited
(without the token)."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot.core.i18n import Audience
from bot.services import data_requests, personal_export
from bot.web.console.headers import HEADERS, NO_STORE

if TYPE_CHECKING:
    from bot.app import Application

log = structlog.get_logger(__name__)

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer"><title>Đồng Hành</title></head>
<body><h1>Đồng Hành</h1>{body}</body></html>"""
# The console's security headers (no framing, no sniffing, no inline script or style, no referrer), nothing cached.
_HEADERS = {
    **{name.decode(): value.decode() for name, value in HEADERS},
    NO_STORE[0].decode(): NO_STORE[1].decode(),
    "x-robots-tag": "noindex",
}


def routes(app: Application) -> list[BaseRoute]:
    zone = ZoneInfo(app.settings.timezone)

    def page(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(_PAGE.format(lang="vi", body=body), status_code=status, headers=_HEADERS)

    t = app.catalogs.translator("vi", Audience.PARTICIPANT)

    async def show(request: Request) -> Response:
        what = t._("Your copy of your data: a PDF you can read and a JSON file, in one ZIP file.")
        once = t._("The link works once: download it on the device where you want to keep it.")
        button = t._("Download my copy")
        body = (
            f"<p>{escape(what)}</p><p>{escape(once)}</p>"
            '<form method="post"><button type="submit">'
            f"{escape(button)}</button></form>"
        )
        return page(body)

    async def download(request: Request) -> Response:
        """The copy is made first (the database read in one short transaction, the PDF outside it), the link spent
        after: a copy that cannot be made leaves the link working. Spending is one conditional UPDATE, so of two
        concurrent downloads exactly one gets the file."""
        token = str(request.path_params.get("token", ""))
        now = app.clock.now()
        refused = t._("This link has already been used or is no longer valid. You can ask for a new copy from My "
                      "data in the chat.")  # fmt: skip
        async with app.store.transaction() as repos:
            found = await data_requests.copy_behind(repos, token, now)
            try:
                data = await personal_export.gather(repos, found.participant_id, now, zone) if found else None
            except personal_export.NoSuchPerson:  # purged between the two reads
                data = None
        if found is None or data is None:
            async with app.store.transaction() as repos:
                await data_requests.spend_link(repos, token, now)  # nothing to spend: the refusal audited
            return page(f"<p>{escape(refused)}</p>", status=410)
        try:
            made = await personal_export.files(data, zone)
        except Exception:
            log.exception("data_copy_failed", request=found.id)
            failed = t._("Your copy could not be made just now. The link still works: please try again later.")
            return page(f"<p>{escape(failed)}</p>", status=503)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(personal_export.file_name(found.participant_id, now, "pdf"), made.pdf)
            archive.writestr(personal_export.file_name(found.participant_id, now, "json"), made.json)
        async with app.store.transaction() as repos:
            spent = await data_requests.spend_link(repos, token, now)
            if spent is not None:
                await personal_export.record_export(
                    repos, spent.participant_id, actor_type="participant", actor_id=spent.participant_id,
                    via="link", formats=["pdf", "json"], extra={"request": spent.id},
                )  # fmt: skip
        if spent is None or spent.id != found.id:  # spent meanwhile (another download won) or revoked
            return page(f"<p>{escape(refused)}</p>", status=410)
        name = personal_export.file_name(found.participant_id, now, "zip")
        headers = {**_HEADERS, "content-disposition": f'attachment; filename="{name}"'}
        return Response(buffer.getvalue(), media_type="application/zip", headers=headers)

    return [
        Route("/copy/{token}", show, methods=["GET"]),
        Route("/copy/{token}", download, methods=["POST"]),
    ]
