"""Signing in to the console: a one-time link (confirm page, spent only by its POST), sessions that end, CSRF and
Origin on every POST, the admins' TOTP step, security headers — over real HTTP against the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from urllib.parse import unquote

import httpx
import pyotp
import pytest
from sqlalchemy import select

from bot.app import Application, build_application
from bot.config import Settings
from bot.db.models import AuditEventRow, ConsoleSessionRow, StaffRow
from bot.services import signin
from bot.services.access import deactivate_staff
from bot.services.operators import Operator
from bot.web.app import build_web
from tests.fakes.clock import FakeClock
from tests.support.console import BASE, SignIn, login_link

REFUSED = "Đường dẫn đăng nhập này không dùng được"


async def audit_actions(app: Application, action: str) -> list[tuple[int | None, str]]:
    async with app.store.transaction() as repos:
        rows = (await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == action))).scalars()
        return [(row.actor_id, row.outcome) for row in rows]


async def test_a_link_opens_the_console_once_and_its_preview_spends_nothing(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient]
) -> None:
    officer = hanoi["officer"]
    path = await login_link(app, officer)
    previewer, person = browsers(), browsers()
    for _ in range(2):  # a chat app's link preview fetches the page: nothing is spent
        page = await previewer.get(path)
        assert page.status_code == 200
        assert "Đăng nhập" in page.text and '<form method="post"' in page.text
    spent = await person.post(path, headers={"origin": BASE})
    assert spent.status_code == 303 and spent.headers["location"] == "/console/"
    cookie = spent.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie and "secure" not in cookie
    home = await person.get("/console/")
    assert home.status_code == 200 and "Tổng quan" in home.text and "Phường Hà Đông" in home.text
    again = await browsers().post(path, headers={"origin": BASE})  # used: the same polite page as any bad link
    assert again.status_code == 400 and REFUSED in again.text
    unknown = await browsers().post("/console/login/" + "x" * 43, headers={"origin": BASE})
    assert unknown.status_code == 400 and REFUSED in unknown.text
    assert (officer, "ok") in await audit_actions(app, "console_login")
    assert (None, "refused") in await audit_actions(app, "console_login")


async def test_an_expired_link_and_a_closed_account_get_the_same_refusal(
    app: Application, hanoi: dict[str, int], clock: FakeClock, browsers: Callable[[], httpx.AsyncClient]
) -> None:
    old, just_in_time = await login_link(app, hanoi["officer"]), await login_link(app, hanoi["officer"])
    clock.advance(minutes=9, seconds=59)  # a link works for 10 minutes ...
    assert (await browsers().post(just_in_time, headers={"origin": BASE})).status_code == 303
    clock.advance(seconds=2)  # ... and not a moment longer
    late = await browsers().post(old, headers={"origin": BASE})
    assert late.status_code == 400 and REFUSED in late.text
    fresh = await login_link(app, hanoi["cadre"])
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, hanoi["cadre"], Operator(), clock.now())
    closed = await browsers().post(fresh, headers={"origin": BASE})
    assert closed.status_code == 400 and REFUSED in closed.text
    async with app.store.transaction() as repos:
        with pytest.raises(signin.SigninError):
            await signin.issue_link(repos, app.store.keyring.token_key, clock, hanoi["cadre"], BASE)


async def test_a_link_posted_from_another_site_is_refused(app: Application, hanoi: dict[str, int], browsers) -> None:
    path = await login_link(app, hanoi["officer"])
    client = browsers()
    forged = await client.post(path, headers={"origin": "https://evil.example"})
    assert forged.status_code == 403
    assert (await client.post(path, headers={"origin": BASE})).status_code == 303  # not spent by the refusal


async def test_without_a_session_pages_ask_to_sign_in_and_posts_are_refused(
    hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient]
) -> None:
    client = browsers()
    page = await client.get("/console/")
    assert page.status_code == 303 and page.headers["location"] == "/console/signin"
    signin_page = await client.get("/console/signin")
    assert "/login" in signin_page.text and "Mở trang quản lý" in signin_page.text
    assert (await client.post("/console/logout", headers={"origin": BASE})).status_code == 403
    client.cookies.set("console_session", "guess", domain="127.0.0.1", path="/console")
    assert (await client.get("/console/")).status_code == 303


async def test_every_post_needs_this_sessions_csrf_token_and_origin(
    app: Application, hanoi: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    other = await sign_in(hanoi["cadre"])
    assert (await officer.post("/console/logout", {"csrf": ""})).status_code == 403
    assert (await officer.post("/console/logout", {"csrf": "0" * 43})).status_code == 403
    assert (await officer.post("/console/logout", {"csrf": other.csrf})).status_code == 403  # another session's
    cross = await officer.post("/console/logout", headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    assert "Trang hoặc thao tác này không dành cho anh/chị" in cross.text
    assert (await officer.client.get("/console/")).status_code == 200  # still signed in after the refusals
    refusals = [row[1] for row in await audit_actions(app, "console_refused")]
    assert refusals.count("denied") == 4
    by_header = await officer.client.post(
        "/console/logout", headers={"origin": BASE, "x-csrf-token": officer.csrf}, data={}
    )
    assert by_header.status_code == 303
    assert (await officer.client.get("/console/")).status_code == 303  # signed out: the session row ended
    assert (await other.client.get("/console/")).status_code == 200  # another session of another person is intact


async def test_sessions_end_when_idle_too_long_after_their_lifetime_and_on_deactivation(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, clock: FakeClock, settings: Settings
) -> None:
    officer = await sign_in(hanoi["officer"])
    clock.advance(minutes=settings.console_idle_minutes - 1)
    assert (await officer.client.get("/console/")).status_code == 200
    clock.advance(minutes=settings.console_idle_minutes)
    assert (await officer.client.get("/console/")).status_code == 303  # idle too long
    officer = await sign_in(hanoi["officer"])
    for _ in range(settings.console_session_hours * 3):  # busy all day: the absolute lifetime still ends it
        clock.advance(minutes=20)
        if (await officer.client.get("/console/")).status_code != 200:
            break
    assert (await officer.client.get("/console/")).status_code == 303
    cadre = await sign_in(hanoi["cadre"])
    async with app.store.transaction() as repos:
        await deactivate_staff(repos, hanoi["cadre"], Operator(), clock.now())
    assert (await cadre.client.get("/console/")).status_code == 303
    async with app.store.transaction() as repos:
        reasons = (await repos.session.execute(select(ConsoleSessionRow.ended_reason))).scalars().all()
    assert "deactivated" in reasons and "expired" in reasons


async def test_console_pages_carry_the_security_headers(hanoi: dict[str, int], sign_in: SignIn) -> None:
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text and " on" + "click=" not in page.text


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"console_totp": True})


async def test_an_admin_confirms_a_totp_code_that_is_never_accepted_twice(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient], clock: FakeClock
) -> None:
    client = browsers()
    spent = await client.post(await login_link(app, hanoi["admin"]), headers={"origin": BASE})
    assert spent.headers["location"] == "/console/second-factor"
    assert (await client.get("/console/")).status_code == 303  # not in before the code
    setup = await client.get("/console/second-factor")
    assert "Xác nhận" in setup.text and "data:image/svg+xml" in setup.text
    csrf = setup.text.split('name="csrf" value="')[1].split('"')[0]
    secret = setup.text.split("<code>")[1].split("</code>")[0]
    wrong = await client.post("/console/second-factor", data={"csrf": csrf, "code": "000000"}, headers={"origin": BASE})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).at(clock.now())
    no_csrf = await client.post("/console/second-factor", data={"code": code}, headers={"origin": BASE})
    assert no_csrf.status_code == 403
    ok = await client.post("/console/second-factor", data={"csrf": csrf, "code": code}, headers={"origin": BASE})
    assert ok.status_code == 303 and ok.headers["location"] == "/console/"
    assert (await client.get("/console/")).status_code == 200
    second = browsers()  # the same code, read over a shoulder, on another device within its 30 seconds
    await second.post(await login_link(app, hanoi["admin"]), headers={"origin": BASE})
    page = await second.get("/console/second-factor")
    assert "<code>" not in page.text  # the secret is shown once, at setup
    csrf2 = page.text.split('name="csrf" value="')[1].split('"')[0]
    replay = await second.post("/console/second-factor", data={"csrf": csrf2, "code": code}, headers={"origin": BASE})
    assert replay.status_code == 400
    clock.advance(seconds=30)
    fresh = pyotp.TOTP(secret).at(clock.now())
    assert (
        await second.post("/console/second-factor", data={"csrf": csrf2, "code": fresh}, headers={"origin": BASE})
    ).status_code == 303
    officer = browsers()  # an officer (commune scope) is not asked
    assert (await officer.post(await login_link(app, hanoi["officer"]), headers={"origin": BASE})).headers[
        "location"
    ] == "/console/"


async def _admin_waiting(app: Application, admin: int, client: httpx.AsyncClient) -> tuple[str, str]:
    """Spend a link as the admin: the session waits for its code. The setup page's CSRF token and the secret shown."""
    spent = await client.post(await login_link(app, admin), headers={"origin": BASE})
    assert spent.headers["location"] == "/console/second-factor"
    page = await client.get("/console/second-factor")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    secret = page.text.split("<code>")[1].split("</code>")[0] if "<code>" in page.text else ""
    return csrf, secret


def _flash(response: httpx.Response) -> str:
    """The one-time message the next page shows (a cookie set with the redirect)."""
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith("console_flash=")]
    return unquote(cookie.split(";", 1)[0].split("=", 1)[1]).strip('"')


async def _code(client: httpx.AsyncClient, csrf: str, code: str) -> httpx.Response:
    return await client.post("/console/second-factor", data={"csrf": csrf, "code": code}, headers={"origin": BASE})


async def test_five_wrong_codes_end_the_session_and_the_next_request_is_asked_to_sign_in(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient], clock: FakeClock
) -> None:
    client = browsers()
    csrf, secret = await _admin_waiting(app, hanoi["admin"], client)
    token = client.cookies["console_session"]
    right = pyotp.TOTP(secret).at(clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for tries in range(1, signin.MAX_CODE_FAILURES):
        answer = await _code(client, csrf, wrong)
        assert answer.status_code == 400 and f": {signin.MAX_CODE_FAILURES - tries}<" in answer.text
        assert "data:image/svg+xml" in answer.text  # not confirmed yet: the QR code is still there
    last = await _code(client, csrf, wrong)
    assert last.status_code == 303 and last.headers["location"] == "/console/signin"
    assert "nhập sai mã quá nhiều lần" in _flash(last) and "/login" in _flash(last)
    assert "console_session" not in client.cookies  # the browser is told to forget it
    client.cookies.set("console_session", token, domain="127.0.0.1", path="/console")  # the old cookie, kept anyway
    sixth = await _code(client, csrf, right)  # even the right code: the session is over
    assert sixth.status_code == 303 and sixth.headers["location"] == "/console/signin"
    assert _flash(sixth).startswith("Phiên đăng nhập đã kết thúc")  # not blamed on wrong codes it never sent
    assert (await client.get("/console/second-factor")).headers["location"] == "/console/signin"
    assert (await client.get("/console/")).headers["location"] == "/console/signin"
    async with app.store.transaction() as repos:
        row = (await repos.session.execute(select(ConsoleSessionRow))).scalar_one()
        staff = await repos.session.get(StaffRow, hanoi["admin"])
    assert row.ended_reason == "second_factor_failed" and row.second_factor_at is None
    assert staff is not None and staff.totp_last_step is None  # the sixth code was not even tried
    assert await audit_actions(app, "console_second_factor") == [(hanoi["admin"], "refused")] * 5
    assert await audit_actions(app, "console_session_ended") == [(hanoi["admin"], "denied")]
    assert (None, "denied") in await audit_actions(app, "console_refused")  # the sixth: no session, audited
    again = browsers()  # a new link from the bot starts a new count
    csrf, _ = await _admin_waiting(app, hanoi["admin"], again)
    assert (await _code(again, csrf, wrong)).status_code == 400
    assert (await _code(again, csrf, right)).headers["location"] == "/console/"


async def test_the_setup_qr_code_shows_on_every_visit_until_a_code_is_accepted(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient], clock: FakeClock
) -> None:
    first = browsers()
    _, secret = await _admin_waiting(app, hanoi["admin"], first)
    again = await first.get("/console/second-factor")  # missed it (closed the tab): shown again, the same key
    assert "data:image/svg+xml" in again.text and f"<code>{secret}</code>" in again.text
    later = browsers()  # or came back later with a new link: still the same key, not a new one
    csrf, shown = await _admin_waiting(app, hanoi["admin"], later)
    assert shown == secret
    assert (await _code(later, csrf, pyotp.TOTP(secret).at(clock.now()))).headers["location"] == "/console/"
    confirmed = browsers()
    await _admin_waiting(app, hanoi["admin"], confirmed)
    page = await confirmed.get("/console/second-factor")
    assert page.status_code == 200 and "<code>" not in page.text and "data:image/svg+xml" not in page.text


async def test_the_session_gets_a_new_token_when_the_second_factor_is_accepted(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient], clock: FakeClock
) -> None:
    client = browsers()
    csrf, secret = await _admin_waiting(app, hanoi["admin"], client)
    before = client.cookies["console_session"]
    ok = await _code(client, csrf, pyotp.TOTP(secret).at(clock.now()))
    assert ok.status_code == 303 and ok.headers["location"] == "/console/"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    after = client.cookies["console_session"]
    assert after and after != before
    assert (await client.get("/console/")).status_code == 200  # the new token opens the console
    planted = browsers()  # whoever kept (or planted) the token from before the code is not let in
    planted.cookies.set("console_session", before, domain="127.0.0.1", path="/console")
    assert (await planted.get("/console/")).headers["location"] == "/console/signin"
    assert (await planted.get("/console/second-factor")).headers["location"] == "/console/signin"
    async with app.store.transaction() as repos:
        [row] = (await repos.session.execute(select(ConsoleSessionRow))).scalars().all()
    assert row.ended_at is None and row.second_factor_at is not None  # the same session row, a new token


async def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    app: Application, hanoi: dict[str, int], settings: Settings, clock: FakeClock
) -> None:
    public = "https://console.example.vn"
    served = build_application(settings.model_copy(update={"public_url": public}), clock=clock)
    try:
        transport = httpx.ASGITransport(app=build_web(served))
        async with httpx.AsyncClient(transport=transport, base_url=public) as client:
            async with served.store.transaction() as repos:
                link = await signin.issue_link(repos, served.store.keyring.token_key, clock, hanoi["officer"], public)
            assert link.url.startswith(f"{public}/console/login/")
            spent = await client.post(link.url, headers={"origin": public})
            assert spent.status_code == 303
            cookie = spent.headers["set-cookie"].lower()
            assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
            assert (await client.get("/console/")).status_code == 200  # sent back over https
    finally:
        await served.aclose()


TOO_MUCH = 11 * 1024 * 1024  # more than the console's 10 MB (and a little) limit


async def _chunked(head: bytes, tail: bytes = b"") -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked): the head, 11 MB of filler, the tail."""
    yield head
    for _ in range(TOO_MUCH // (64 * 1024)):
        yield b"a" * (64 * 1024)
    yield tail


async def test_a_chunked_body_over_the_limit_is_refused_and_nothing_is_written(
    app: Application, hanoi: dict[str, int], sign_in: SignIn, browsers: Callable[[], httpx.AsyncClient]
) -> None:
    officer = await sign_in(hanoi["officer"])
    boundary = "console-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{officer.csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    upload = await officer.client.post(
        "/console/import/preview",
        content=_chunked(head, f"\r\n--{boundary}--\r\n".encode()),
        headers={"origin": BASE, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "content-length" not in upload.request.headers  # really chunked: only the bytes received can tell
    assert upload.status_code == 413 and "10 MB" in upload.text
    logout = await officer.client.post(
        "/console/logout",
        content=_chunked(f"csrf={officer.csrf}&pad=".encode()),
        headers={"origin": BASE, "content-type": "application/x-www-form-urlencoded"},
    )
    assert logout.status_code == 413 and "content-length" not in logout.request.headers
    assert (await officer.client.get("/console/")).status_code == 200  # not signed out: the form was never read
    stranger = browsers()
    second_factor = await stranger.post(  # outside the page wrapper the form's fields are capped at 1 MB: 400
        "/console/second-factor",
        content=_chunked(b"csrf=x&code="),
        headers={"origin": BASE, "content-type": "application/x-www-form-urlencoded"},
    )
    assert second_factor.status_code == 400

    async def small() -> AsyncIterator[bytes]:
        yield b"csrf=x&code=1"

    announced = await stranger.post(  # more announced than allowed: BodyLimit's own short answer, before reading
        "/console/second-factor",
        content=small(),
        headers={"origin": BASE, "content-type": "application/x-www-form-urlencoded", "content-length": "20000000"},
    )
    assert announced.status_code == 413 and announced.headers["x-frame-options"] == "DENY"
    async with app.store.transaction() as repos:
        refusals = (await repos.session.execute(select(AuditEventRow.detail).where(
            AuditEventRow.action == "console_refused"
        ))).scalars().all()  # fmt: skip
    assert [(r["reason"], r["route"]) for r in refusals] == [("too_large", "/import/preview"), ("too_large", "/logout")]
    assert await audit_actions(app, "import_previewed") == [] and await audit_actions(app, "console_logout") == []


async def test_twenty_wrong_codes_in_a_day_lock_the_account_whatever_the_links(
    app: Application, hanoi: dict[str, int], browsers: Callable[[], httpx.AsyncClient], clock: FakeClock
) -> None:
    """Someone holding the admin's chat can ask for link after link: five guesses each, but twenty in a day in all."""
    secret = ""
    for _ in range(signin.MAX_ACCOUNT_CODE_FAILURES // signin.MAX_CODE_FAILURES):
        client = browsers()
        csrf, shown = await _admin_waiting(app, hanoi["admin"], client)
        secret = secret or shown
        wrong = f"{(int(pyotp.TOTP(secret).at(clock.now())) + 500_000) % 1_000_000:06d}"
        for _ in range(signin.MAX_CODE_FAILURES):
            answer = await _code(client, csrf, wrong)
        assert answer.status_code == 303
        clock.advance(minutes=10)
    locked = browsers()
    csrf, _ = await _admin_waiting(app, hanoi["admin"], locked)
    refused = await _code(locked, csrf, pyotp.TOTP(secret).at(clock.now()))  # even the right code
    assert refused.status_code == 303 and refused.headers["location"] == "/console/signin"
    assert "quá nhiều lần trong hôm nay" in _flash(refused)
    async with app.store.transaction() as repos:
        staff = await repos.session.get(StaffRow, hanoi["admin"])
        ended = (await repos.session.execute(select(ConsoleSessionRow.ended_reason))).scalars().all()
    assert staff is not None and staff.totp_last_step is None  # not even tried
    assert ended.count("second_factor_locked") == 1 and ended.count("second_factor_failed") == 4
    assert await audit_actions(app, "console_second_factor") == [(hanoi["admin"], "refused")] * 20

    clock.advance(hours=24)  # a day after the last wrong code: the account takes codes again
    later = browsers()
    csrf, _ = await _admin_waiting(app, hanoi["admin"], later)
    assert (await _code(later, csrf, pyotp.TOTP(secret).at(clock.now()))).headers["location"] == "/console/"
