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

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot.core.i18n import Audience
from bot.services import data_requests, personal_export

if TYPE_CHECKING:
    from bot.app import Application

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer"><title>Đồng Hành</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem">
<h1 style="font-size: 1.3rem">Đồng Hành</h1>{body}</body></html>"""
_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer", "x-robots-tag": "noindex"}


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
            '<form method="post"><button type="submit" style="font-size: 1.1rem; padding: .6rem 1.2rem">'
            f"{escape(button)}</button></form>"
        )
        return page(body)

    async def download(request: Request) -> Response:
        token = str(request.path_params.get("token", ""))
        now = app.clock.now()
        async with app.store.transaction() as repos:
            found = await data_requests.spend_link(repos, token, now)
            if found is None:
                data = None
            else:
                data = await personal_export.gather(repos, found.participant_id, now, zone)
                await personal_export.record_export(
                    repos, found.participant_id, actor_type="participant", actor_id=found.participant_id,
                    via="link", formats=["pdf", "json"], extra={"request": found.id},
                )  # fmt: skip
        if data is None or found is None:
            refused = t._("This link has already been used or is no longer valid. You can ask for a new copy from My "
                          "data in the chat.")  # fmt: skip
            return page(f"<p>{escape(refused)}</p>", status=410)
        made = await personal_export.files(data, zone)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(personal_export.file_name(found.participant_id, now, "pdf"), made.pdf)
            archive.writestr(personal_export.file_name(found.participant_id, now, "json"), made.json)
        name = personal_export.file_name(found.participant_id, now, "zip")
        headers = {**_HEADERS, "content-disposition": f'attachment; filename="{name}"'}
        return Response(buffer.getvalue(), media_type="application/zip", headers=headers)

    return [
        Route("/copy/{token}", show, methods=["GET"]),
        Route("/copy/{token}", download, methods=["POST"]),
    ]
