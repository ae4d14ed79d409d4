"""What every console page shares: the signed-in viewer, the page wrapper (session, role, CSRF, Origin), rendering.

The console is an adapter like a chat channel: it resolves who is asking from its own session table, asks the one
authorisation table (`bot.domain.authz`) and the services, and renders. It holds no rule of its own. A page handler
is `async def handler(request, viewer) -> Response`, wrapped by `Console.page`, which refuses before the handler runs:
no live session → the sign-in page; a role not listed → 403; a POST without this session's CSRF token or from
another origin → 403 (audited).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
import structlog
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    pass_context,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.core.i18n import Audience, Translator
from bot.db.repositories.retention import FORMER_STAFF_NAME
from bot.domain.authz import Actor, ActorKind
from bot.domain.entities import Role, StaffMember, UnitLevel
from bot.services import signin
from bot.web.console.headers import MAX_BODY, BodyTooLarge
from bot.web.console.headers import MAX_UPLOAD as MAX_UPLOAD  # the import page's limit, named here too

if TYPE_CHECKING:
    from bot.app import Application

log = structlog.get_logger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
COOKIE = "console_session"
FLASH = "console_flash"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

Handler = Callable[[Request, "Viewer"], Awaitable[Response]]


@dataclass(slots=True)
class Viewer:
    """The staff member behind this request, as the session table and the staff table say now."""

    staff: StaffMember
    actor: Actor
    session_id: int
    csrf: str
    t: Translator
    request: Request
    _form: FormData | None = field(default=None)

    @property
    def language(self) -> str:
        return self.t.language

    async def form(self) -> FormData:
        """The POST's form, parsed and checked by the page wrapper before the handler ran."""
        assert self._form is not None, "form() is for POST handlers"
        return self._form


class _TemplateCache(FileSystemBytecodeCache):
    """A cache that cannot be written (a full disk, a read-only directory) costs a compile, never a page."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            log.warning("template_cache_not_written", error=type(exc).__name__)


def compiled_templates() -> BytecodeCache | None:
    """The pages compiled once for this machine (Jinja's cache in the temp directory, checked against each template's
    source), not again by every Application a process builds; None where no temp directory can be made."""
    # The compiled code also depends on Jinja's version and on this module (the Environment's options, its filters):
    # their fingerprint is in the files' names, so an upgrade never runs pages compiled under other settings.
    fingerprint = hashlib.sha256(jinja2.__version__.encode() + Path(__file__).read_bytes()).hexdigest()[:16]
    try:
        return _TemplateCache(pattern=f"__console_{fingerprint}_%s.cache")
    except (OSError, RuntimeError):
        return None


@pass_context
def _former_staff(context: Any, value: Any) -> Any:
    """A purged staff member's placeholder name (bot/services/retention.py), in the viewer's language wherever a
    name is printed."""
    translate = context.get("_") if isinstance(value, str) and value == FORMER_STAFF_NAME else None
    return translate(value) if callable(translate) else value


class Console:
    def __init__(self, app: Application) -> None:
        self.app = app
        settings = app.settings
        self.key = app.store.keyring.token_key
        self.previous_keys = app.store.keyring.token_keys[1:]  # a key rotation under way: older sessions still open
        self.policy = signin.SessionPolicy(
            idle=_minutes(settings.console_idle_minutes), lifetime=_minutes(settings.console_session_hours * 60)
        )
        self.base = signin.base_url(settings.public_url, settings.http_host, settings.http_port)
        self.secure = self.base.startswith("https://")
        self.zone = ZoneInfo(settings.timezone)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=compiled_templates(),
            finalize=_former_staff,
        )
        self.env.filters["dmy"] = _dmy
        self.env.filters["local"] = self.local_time

    # -- who is asking ----------------------------------------------------------------------------------------------

    def translator(self, language: str | None) -> Translator:
        return self.app.catalogs.translator(language, Audience.STAFF)

    async def viewer(self, request: Request) -> Viewer | None:
        token = request.cookies.get(COOKIE)
        async with self.app.store.transaction() as repos:
            session = await signin.resume(repos, self.key, self.app.clock, token, self.policy, self.previous_keys)
            if session is None:
                return None
            if signin.needs_second_factor(session.staff, self.second_factor) and not session.second_factor_done:
                return None
            unit = await repos.units.get(session.staff.unit_id)
        province_id = None
        if unit is not None:
            province_id = unit.id if unit.level is UnitLevel.PROVINCE else unit.parent_id
        staff = session.staff
        actor = Actor(ActorKind.STAFF, staff.id, staff.role, staff.unit_id, province_id)
        csrf = signin.csrf_token(self.key, session.token_hash)
        return Viewer(staff, actor, session.id, csrf, self.translator(staff.language), request)

    @property
    def second_factor(self) -> bool:
        settings = self.app.settings
        return settings.console_totp if settings.console_totp is not None else settings.is_production

    # -- the page wrapper -------------------------------------------------------------------------------------------

    def page(
        self, handler: Handler, *, roles: Collection[Role] | None = None, methods: tuple[str, ...] = ("GET",)
    ) -> Callable[[Request], Awaitable[Response]]:
        allowed = frozenset(roles) if roles is not None else frozenset(Role)

        async def endpoint(request: Request) -> Response:
            viewer = await self.viewer(request)
            if viewer is None:
                if request.method != "GET":
                    return await self.refuse(request, None, "no_session", 403)
                return RedirectResponse("/console/signin", status_code=303)
            if viewer.staff.role not in allowed:
                return await self.refuse(request, viewer, "role", 403)
            if request.method == "POST":
                refusal = await self._check_post(request, viewer)
                if refusal is not None:
                    return refusal
            try:
                return await handler(request, viewer)
            finally:
                if viewer._form is not None:  # an upload's spooled temporary file goes now, not at exit
                    await viewer._form.close()

        endpoint.__name__ = getattr(handler, "__name__", "page")
        return endpoint

    def same_origin(self, request: Request) -> bool:
        """A browser's POST says where the form was: it must be this console (the public URL, or the host asked)."""
        origin = request.headers.get("origin")
        site = request.headers.get("sec-fetch-site")  # set by the browser itself; a page cannot forge it
        if origin is None:
            return site in (None, "same-origin", "none")
        if origin == "null":  # what a browser sends from a page served with Referrer-Policy: no-referrer
            return site == "same-origin"
        own = {_origin(self.base), f"{request.url.scheme}://{request.url.netloc}"}
        return origin.rstrip("/") in own

    async def _check_post(self, request: Request, viewer: Viewer) -> Response | None:
        if not self.same_origin(request):
            return await self.refuse(request, viewer, "origin", 403)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await self.refuse(request, viewer, "too_large", 413)
        try:  # BodyLimit (headers.py) counts what arrives: a chunked body without a length stops at MAX_BODY too,
            # and no field can outgrow the body, so anything too large is a 413 (MAX_UPLOAD bounds the file's read)
            form = await request.form(max_files=1, max_fields=5000, max_part_size=MAX_BODY)
        except BodyTooLarge:
            return await self.refuse(request, viewer, "too_large", 413)
        except (MultiPartException, HTTPException):  # Starlette turns a bad multipart form into HTTPException(400)
            return await self.refuse(request, viewer, "bad_form", 400)
        sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
            await form.close()
            return await self.refuse(request, viewer, "csrf", 403)
        viewer._form = form
        return None

    async def refuse(self, request: Request, viewer: Viewer | None, reason: str, status: int) -> Response:
        """Audited (who, which route, why — never the form), then a plain page in the viewer's language."""
        async with self.app.store.transaction() as repos:
            await repos.audit.record(
                actor_type="staff" if viewer else "anonymous",
                actor_id=viewer.staff.id if viewer else None,
                action="console_refused",
                outcome="denied",
                detail={"reason": reason, "route": _route_name(request), "method": request.method},
            )
        t = viewer.t if viewer else self.translator(None)
        messages = {
            403: t._("This page or action is not open to you."),
            413: t._("The file is too large (at most 10 MB)."),
            400: t._("The form could not be read. Please try again."),
        }
        return self.render(request, viewer, "error.html", status=status, message=messages.get(status, messages[403]))

    async def not_found(self, request: Request, viewer: Viewer | None) -> Response:
        """The same answer for a record that does not exist and one out of the viewer's reach."""
        t = viewer.t if viewer else self.translator(None)
        return self.render(request, viewer, "error.html", status=404, message=t._("Nothing was found here."))

    # -- rendering --------------------------------------------------------------------------------------------------

    def render(
        self, request: Request, viewer: Viewer | None, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        t = viewer.t if viewer else context.pop("t", None) or self.translator(None)
        flash = unquote(request.cookies.get(FLASH, ""))[:300]
        page = self.env.get_template(template).render(
            _=t._,
            n_=t.n_,
            viewer=viewer,
            lang=t.language,
            csrf_field=lambda: _csrf_field(viewer),
            csrf=viewer.csrf if viewer else "",
            flash=flash,
            path=request.url.path,
            **context,
        )
        response = HTMLResponse(page, status_code=status)
        if flash:
            response.delete_cookie(FLASH, path="/console")
        return response

    def flash_redirect(self, url: str, message: str) -> Response:
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLASH, quote(message[:300]), max_age=60, path="/console", httponly=True, samesite="lax", secure=self.secure
        )
        return response

    def local_time(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def _csrf_field(viewer: Viewer | None) -> Markup:
    if viewer is None:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(viewer.csrf))


def _dmy(day: date | datetime | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _route_name(request: Request) -> str:
    """The route's pattern, not the path: a login token or an id typed into a URL is never written to the audit."""
    route = request.scope.get("route")
    return getattr(route, "path", "?")


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
