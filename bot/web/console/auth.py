"""Signing in and out: the one-time link's confirm page (its GET spends nothing, so a chat app's link preview cannot
use it up), the POST that spends it, the admins' TOTP step, and signing out.

A used, expired, unknown or closed account's link gets the same polite page; every attempt is audited (with the
staff id when the link was good, never the token)."""

from __future__ import annotations

import hmac

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.services import signin
from bot.web.console.kit import COOKIE, Console, Viewer


def routes(console: Console) -> list[BaseRoute]:
    def set_session_cookie(response: Response, token: str) -> None:
        """HttpOnly, SameSite=Lax, only under /console, Secure when the public URL is https."""
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(console.policy.lifetime.total_seconds()),
            path="/console",
            httponly=True,
            samesite="lax",
            secure=console.secure,
        )

    async def signin_page(request: Request) -> Response:
        return console.render(request, None, "auth/signin.html")

    async def confirm(request: Request) -> Response:
        return console.render(request, None, "auth/confirm.html", token=request.path_params["token"])

    async def spend(request: Request) -> Response:
        if not console.same_origin(request):
            return await console.refuse(request, None, "origin", 403)
        token = request.path_params["token"]
        async with console.app.store.transaction() as repos:
            spent = await signin.spend_link(
                repos, console.key, console.app.clock, token, console.policy, console.previous_keys
            )
            await repos.audit.record(
                actor_type="staff" if spent else "anonymous",
                actor_id=spent[0].id if spent else None,
                action="console_login",
                outcome="ok" if spent else "refused",
            )
        if spent is None:
            return console.render(request, None, "auth/refused.html", status=400)
        staff, session_token = spent
        target = "/console/second-factor" if signin.needs_second_factor(staff, console.second_factor) else "/console/"
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(response, session_token)
        return response

    async def second_factor(request: Request) -> Response:
        """An admin's code after the link. Until a code is accepted, the page shows the secret to put in an
        authenticator app (as a QR code and as text); an accepted code gives the session a new cookie; the fifth
        wrong one ends the session (audited), and the person asks the bot for a new link."""
        if request.method == "POST" and not console.same_origin(request):
            return await console.refuse(request, None, "origin", 403)
        form = await request.form(max_files=0, max_fields=5) if request.method == "POST" else None
        clock, cipher = console.app.clock, console.app.store.keyring.cipher
        wrong, setup, refused = False, None, False
        outcome: signin.CodeOutcome | None = None
        async with console.app.store.transaction() as repos:
            session = await signin.session_for_second_factor(
                repos, console.key, clock, request.cookies.get(COOKIE), console.policy
            )
            if session is not None and (
                session.second_factor_done or not signin.needs_second_factor(session.staff, console.second_factor)
            ):
                return RedirectResponse("/console/", status_code=303)
            t = console.translator(session.staff.language if session else None)
            if session is None:
                if form is None:
                    return RedirectResponse("/console/signin", status_code=303)
                await repos.audit.record(  # a code sent for a session that ended (or never was): audited, not tried
                    actor_type="anonymous", actor_id=None, action="console_refused", outcome="denied",
                    detail={"reason": "no_session", "route": "/second-factor", "method": "POST"},
                )  # fmt: skip
                outcome = signin.CodeOutcome(ended=True, over_before=True)
            else:
                csrf = signin.csrf_token(console.key, session.token_hash)
                if form is not None and not _same(form.get("csrf"), csrf):
                    refused = True
                elif form is not None:
                    code = str(form.get("code", ""))[:20]
                    outcome = await signin.confirm_code(repos, console.key, cipher, clock, session, code)
                    wrong = not outcome.accepted and not outcome.ended
                if not refused and (outcome is None or wrong):
                    secret = await signin.setup_secret(repos, cipher, session.staff.id)
                    if secret is not None:
                        uri = f"otpauth://totp/{_label(session.staff.id)}?secret={secret}&issuer=Dong%20Hanh"
                        setup = {"secret": secret, "qr": segno.make(uri, error="m").svg_data_uri(scale=4)}
        if refused:  # after the transaction: the refusal is audited in its own
            return await console.refuse(request, None, "csrf", 403)
        if outcome is not None and outcome.token is not None:
            response = RedirectResponse("/console/", status_code=303)
            set_session_cookie(response, outcome.token)  # the half-open session's token opens nothing any more
            return response
        if outcome is not None and outcome.ended:
            if outcome.locked:
                message = t._(
                    "Too many wrong codes for this account today. Please try again tomorrow, or ask the technical "
                    "staff who run the system to unlink your chats and reset your authenticator app."
                )
            elif outcome.over_before:
                message = t._("Your sign-in has ended. Please send /login in your chat with Đồng Hành for a new link.")
            else:
                message = t._(
                    "Too many wrong codes. Please send /login in your chat with Đồng Hành for a new sign-in link."
                )
            response = console.flash_redirect("/console/signin", message)
            response.delete_cookie(COOKIE, path="/console")
            return response
        return console.render(
            request, None, "auth/second_factor.html", t=t, csrf_value=csrf, wrong=wrong, setup=setup,
            left=signin.MAX_CODE_FAILURES - (outcome.failures if outcome else 0), status=400 if wrong else 200,
        )

    async def sign_out(request: Request, viewer: Viewer) -> Response:
        async with console.app.store.transaction() as repos:
            await signin.end_session(repos, console.app.clock, viewer.session_id)
            await repos.audit.record(
                actor_type="staff", actor_id=viewer.staff.id, action="console_logout", outcome="ok"
            )
        response = console.flash_redirect("/console/signin", viewer.t._("You have signed out."))
        response.delete_cookie(COOKIE, path="/console")
        return response

    return [
        Route("/signin", signin_page, methods=["GET"]),
        Route("/login/{token}", confirm, methods=["GET"]),
        Route("/login/{token}", spend, methods=["POST"]),
        Route("/second-factor", second_factor, methods=["GET", "POST"]),
        Route("/logout", console.page(sign_out, methods=("POST",)), methods=["POST"]),
    ]


def _same(sent: object, expected: str) -> bool:
    """A form's CSRF token against the session's, in constant time."""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


def _label(staff_id: int) -> str:
    """What the authenticator app shows: the product and the account number, nothing personal."""
    return f"Dong%20Hanh:staff-{staff_id}"
