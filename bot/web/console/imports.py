"""Nhập danh sách: an officer imports the commune's list from its spreadsheet (an admin picks one of the province's
communes). Upload → preview with every row's problems (nothing written) → confirm → everyone or no one, then links to
print their invite cards.

Between the preview and the confirmation the file is not kept on the server: the rows as read (text, by field) go
back to the browser sealed with the server's key (AES-GCM, bound to this session, this staff member and this commune,
valid 30 minutes), so several workers can serve the two requests, nothing is readable in the page, and nothing is
left behind when the officer walks away. The confirmation opens the seal and checks every row again against the list
as it is then (`register_import.commit`): the preview is never trusted. A confirmation sent twice (a double click,
the back button) finds everyone already listed and imports no one again; the same worker also refuses a seal it
has already spent.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import zlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.core.i18n import N_
from bot.db.crypto import SealBroken, row_ref
from bot.db.store import Repositories
from bot.domain.authz import Action, ParticipantScope, decide
from bot.domain.entities import Role, Unit, UnitLevel
from bot.domain.ids import record_id
from bot.domain.register_import import ImportFileError
from bot.services import register_import as imports
from bot.services.operators import StaffOperator
from bot.web.console.kit import MAX_UPLOAD, Console, Viewer

SEAL_COLUMN = "console.import_upload"
SEAL_LIFETIME = timedelta(minutes=30)
CARDS_PER_LINK = 200  # one print run of invite cards per link
RISKS = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High")}


def routes(console: Console) -> list[BaseRoute]:
    spent: dict[str, datetime] = {}  # seals this worker has imported, until they expire anyway

    def today() -> date:
        return local_today(console.app.clock, ZoneInfo(console.app.settings.timezone))

    async def form_page(request: Request, viewer: Viewer) -> Response:
        async with console.app.store.transaction() as repos:
            communes = await _communes(repos, viewer)
        return console.render(request, viewer, "imports/form.html", communes=communes, chosen=None)

    async def template(request: Request, viewer: Viewer) -> Response:
        cadres: list[str] = []
        if viewer.staff.role is Role.OFFICER:
            async with console.app.store.transaction() as repos:
                cadres = [c.name for c in await repos.staff.in_unit(viewer.staff.unit_id, Role.CADRE)]
        data = imports.template_xlsx(viewer.t, today=today(), cadres=cadres)
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"content-disposition": 'attachment; filename="mau-danh-sach.xlsx"'},
        )

    async def preview(request: Request, viewer: Viewer) -> Response:
        try:
            return await checked_upload(request, viewer)
        finally:
            await (await viewer.form()).close()  # the upload's temporary file, at once

    async def checked_upload(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        async with console.app.store.transaction() as repos:
            unit = await _unit(repos, viewer, form.get("unit"))
            if unit is None:
                return await _denied(console, request, viewer, repos)
            communes = await _communes(repos, viewer)

        def again(message: str) -> Response:
            return console.render(
                request, viewer, "imports/form.html", status=400, communes=communes, chosen=unit, problem=message
            )

        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return again(viewer.t._("Choose the file to import."))
        try:  # read before the transaction: a large workbook takes a moment, the database need not wait for it
            sheet = imports.read_file(await upload.read(MAX_UPLOAD + 1), upload.filename)
        except ImportFileError as exc:
            return again(exc.problem.text(viewer.t))
        async with console.app.store.transaction() as repos:
            checked = await imports.check(repos, unit, sheet, today=today())
            await _audit(
                repos, viewer, "import_previewed", unit,
                rows=checked.total, problems=len(checked.problems), elsewhere=checked.elsewhere,
            )  # fmt: skip
            names = await _cadre_names(repos, unit)
        seal = _seal(console, viewer, unit, checked.sheet) if checked.ok else ""
        return console.render(
            request, viewer, "imports/preview.html", status=200 if checked.ok else 422,
            unit=unit, preview=checked, seal=seal, cadres=names, communes=communes, risks=RISKS,
            problems=[(p, [x.text(viewer.t) for x in p.problems]) for p in checked.problems],
        )  # fmt: skip

    async def confirm(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        now = console.app.clock.now()
        for key in [k for k, until in spent.items() if until < now]:
            del spent[key]
        async with console.app.store.transaction() as repos:
            unit = await _unit(repos, viewer, form.get("unit"))
            if unit is None:
                return await _denied(console, request, viewer, repos)
        opened = _open(console, viewer, unit, str(form.get("seal", "")))
        if opened is None or opened[0] in spent:
            message = viewer.t._("This preview has expired or was already used. Please upload the file again.")
            async with console.app.store.transaction() as repos:
                communes = await _communes(repos, viewer)
            return console.render(
                request, viewer, "imports/form.html", status=400, communes=communes, chosen=unit, problem=message
            )
        nonce, sheet = opened
        spent[nonce] = now + SEAL_LIFETIME
        operator = StaffOperator(viewer.staff.id)
        try:
            async with console.app.store.transaction() as repos:
                enrolment = console.app.enrolment(repos, operator)
                done = await imports.commit(repos, enrolment, unit, sheet, today=today(), operator=operator)
        except imports.ImportRejected as exc:
            del spent[nonce]
            checked = exc.preview
            async with console.app.store.transaction() as repos:
                names = await _cadre_names(repos, unit)
                communes = await _communes(repos, viewer)
            return console.render(
                request, viewer, "imports/preview.html", status=409, unit=unit, preview=checked, seal="",
                cadres=names, communes=communes, changed=True, risks=RISKS,
                problems=[(p, [x.text(viewer.t) for x in p.problems]) for p in checked.problems],
            )  # fmt: skip
        batches = [done.ids[i : i + CARDS_PER_LINK] for i in range(0, len(done.ids), CARDS_PER_LINK)]
        links = [(b[0], b[-1], ",".join(map(str, b))) for b in batches]
        return console.render(request, viewer, "imports/done.html", unit=unit, count=len(done.ids), links=links)

    return [
        Route("/import", console.page(form_page, roles={Role.OFFICER, Role.ADMIN}), methods=["GET"]),
        Route("/import/template.xlsx", console.page(template, roles={Role.OFFICER, Role.ADMIN}), methods=["GET"]),
        Route(
            "/import/preview",
            console.page(preview, roles={Role.OFFICER, Role.ADMIN}, methods=("POST",)),
            methods=["POST"],
        ),
        Route(
            "/import/confirm",
            console.page(confirm, roles={Role.OFFICER, Role.ADMIN}, methods=("POST",)),
            methods=["POST"],
        ),
    ]


async def _communes(repos: Repositories, viewer: Viewer) -> list[Unit]:
    """The communes an admin may choose from (their province's); an officer imports into their own commune."""
    if viewer.staff.role is not Role.ADMIN or viewer.actor.province_id is None:
        return []
    units = await repos.units.all()
    return [u for u in units if u.level is UnitLevel.COMMUNE and u.parent_id == viewer.actor.province_id]


async def _unit(repos: Repositories, viewer: Viewer, chosen: object) -> Unit | None:
    """The commune to import into, if the viewer may manage its list: the one the form names (an admin's choice; a
    forged one for an officer is refused like any other), else the viewer's own. Asked of the authorisation table
    with the commune as the database has it; a refusal is audited."""
    unit_id = viewer.staff.unit_id
    if isinstance(chosen, str) and chosen.strip():
        unit_id = record_id(chosen)
        if unit_id is None:
            return None
    unit = await repos.units.get(unit_id)
    if unit is None or unit.level is not UnitLevel.COMMUNE:
        return None
    # A new record on this commune's list: the scope any person listed there would have.
    decision = decide(viewer.actor, Action.MANAGE_LIST, ParticipantScope(0, unit.id, unit.parent_id, None))
    return unit if decision else None


async def _denied(console: Console, request: Request, viewer: Viewer, repos: Repositories) -> Response:
    await repos.audit.record(
        actor_type="staff", actor_id=viewer.staff.id, action=f"denied:{Action.MANAGE_LIST.value}", outcome="denied",
        subject_type="unit", detail={"reason": "import into a commune out of reach"},
    )  # fmt: skip
    return await console.not_found(request, viewer)


async def _audit(repos: Repositories, viewer: Viewer, action: str, unit: Unit, **counts: int) -> None:
    await repos.audit.record(
        actor_type="staff", actor_id=viewer.staff.id, action=action, outcome="ok", subject_type="unit",
        subject_id=unit.id, detail=counts,
    )  # fmt: skip


async def _cadre_names(repos: Repositories, unit: Unit) -> dict[int, str]:
    return {c.id: c.name for c in await repos.staff.in_unit(unit.id, Role.CADRE)}


def _ref(viewer: Viewer, unit: Unit) -> str:
    return row_ref(session=viewer.session_id, staff=viewer.staff.id, unit=unit.id)


def _seal(console: Console, viewer: Viewer, unit: Unit, sheet: imports.Sheet) -> str:
    """The checked rows, compressed and sealed for this session, staff member and commune, with an expiry."""
    body = {
        "nonce": secrets.token_hex(16),
        "until": (console.app.clock.now() + SEAL_LIFETIME).isoformat(),
        "sheet": base64.b64encode(zlib.compress(sheet.to_json().encode("utf-8"), 6)).decode("ascii"),
    }
    return console.app.store.keyring.cipher.encrypt(json.dumps(body), SEAL_COLUMN, _ref(viewer, unit))


def _open(console: Console, viewer: Viewer, unit: Unit, sealed: str) -> tuple[str, imports.Sheet] | None:
    """(nonce, rows) of a seal made for this session, staff member and commune and not expired; None otherwise."""
    if not sealed or len(sealed) > 2 * MAX_UPLOAD:
        return None
    try:
        body = json.loads(console.app.store.keyring.cipher.decrypt(sealed, SEAL_COLUMN, _ref(viewer, unit)))
        if datetime.fromisoformat(body["until"]) < console.app.clock.now():
            return None
        raw = zlib.decompressobj().decompress(base64.b64decode(body["sheet"]), 64 * MAX_UPLOAD)
        return str(body["nonce"]), imports.Sheet.from_json(raw.decode("utf-8"))
    except (SealBroken, ValueError, KeyError, TypeError, binascii.Error, zlib.error):
        return None
