"""Transcripts: a staff member asks the bot for the console (*Mở trang quản lý* in the menu, or `/login`) and gets a
one-time link, sent without a link preview; nobody else learns that such a command exists.

Through the simulator, Telegram (buttons; the fake Bot API records that the preview was turned off) and Zalo (the
menu's options are typed numbers). The link is then spent through the sign-in service the console's page calls.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from bot.app import Application
from bot.core.messages import OutboundMessage
from bot.services import signin
from bot.services.signin import SessionPolicy
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.support.chats import Chat, Chats, link_participant, typed_twice
from tests.support.factories import Commune
from tests.support.records import audit_trail

pytestmark = pytest.mark.parametrize("channel_kind", ["simulator", "telegram-webhook", "zalo-webhook"], indirect=True)

LINK = re.compile(r"(https?://\S+/console/login/([A-Za-z0-9_-]{43}))")
SAYS = (
    "Đây là đường dẫn đăng nhập trang quản lý, dùng được một lần trong 10 phút:\n",
    "\nVui lòng không chuyển đường dẫn này cho người khác.",
)
CONSOLE = "Mở trang quản lý"
UNKNOWN = "Mình không hiểu lệnh này"  # the unknown-command answer a participant gets
POLICY = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def _link(text: str) -> tuple[str, str]:
    found = LINK.search(text)
    assert found is not None, f"no sign-in link in:\n{text}"
    return found.group(1), found.group(2)


async def _links(app: Application) -> int:
    """Sign-in links issued so far (each one is audited)."""
    return len(await audit_trail(app, "login_link_issued"))


async def _spend(app: Application, token: str) -> int | None:
    """The staff member the link signs in (None: refused), as the console's confirm button spends it."""
    async with app.store.transaction() as repos:
        spent = await signin.spend_link(repos, app.store.keyring.token_key, app.clock, token, POLICY)
    return spent[0].id if spent is not None else None


def _previews(fake: FakeTelegram | None, text: str) -> list[object]:
    """The link_preview_options of every sendMessage whose text contains `text` (Telegram only)."""
    assert fake is not None
    return [
        json.loads(call.params["link_preview_options"]) if "link_preview_options" in call.params else None
        for call in fake.sent()
        if text in call.params.get("text", "")
    ]


async def _officer(sim: Chats, commune: Commune) -> Chat:
    officer = sim.chat("cuong")
    (await officer.say(commune.officer_code)).offers("Danh sách xã/phường", CONSOLE)
    return officer


async def test_the_menu_button_sends_a_one_time_link_without_a_preview(
    app: Application, sim: Chats, commune: Commune, fake_telegram: FakeTelegram | None, clock: FakeClock
) -> None:
    officer = await _officer(sim, commune)
    reply = await officer.press(CONSOLE)
    reply.says(*SAYS).never_says("Lê Văn Cường")  # the link and the warning; nobody's name
    assert len(reply) == 1 and not reply[0].buttons  # the link alone: the menu's choices stay as they were
    url, token = _link(reply.text)
    assert url.endswith(f"{signin.LOGIN_PATH}{token}")
    if fake_telegram is not None:
        assert _previews(fake_telegram, token) == [{"is_disabled": True}]
        other = [c for c in fake_telegram.sent() if token not in c.params.get("text", "")]
        assert other and all("link_preview_options" not in c.params for c in other)  # other messages: unchanged
    [issued] = await audit_trail(app, "login_link_issued")
    assert (issued.actor_type, issued.subject_type, issued.subject_id) == ("staff", "staff", issued.actor_id)
    assert token not in json.dumps(issued.detail) and "console" not in json.dumps(issued.detail)
    officer_id = issued.actor_id
    assert await _spend(app, token) == officer_id  # the link signs the officer in, once
    assert await _spend(app, token) is None
    # A second request is a new link; the first one stays spent.
    _, again = _link((await officer.say("/login")).text)
    assert again != token and await _links(app) == 2
    clock.advance(minutes=10, seconds=1)  # ten minutes later it no longer works
    assert await _spend(app, again) is None


async def test_every_staff_role_gets_the_button_and_the_command(app: Application, sim: Chats, commune: Commune) -> None:
    codes = {"binh": commune.cadre_code, "dung": commune.counsellor_code, "em": commune.admin_code}
    for name, code in codes.items():
        chat = sim.chat(name)
        (await chat.say(code)).offers(CONSOLE)
        (await chat.say("/login")).says(*SAYS)
        (await chat.say("/LOGIN@DongHanhBot")).says(*SAYS)  # as Telegram sends a command from its menu
    assert len(await audit_trail(app, "login_link_issued")) == 6


async def test_participants_and_unlinked_chats_hear_of_no_such_command(
    app: Application, sim: Chats, commune: Commune
) -> None:
    an = await link_participant(sim.chat("an"), commune.an_code)
    unknown = await an.say("/khongco")
    login = await an.say("/login")
    assert login.text == unknown.text and UNKNOWN in login.text
    login.never_says("trang quản lý", "đăng nhập", "http").offers("Điểm danh tháng này")
    stranger = sim.chat("la")
    unknown = await stranger.say("/khongco")
    login = await stranger.say("/login")
    assert login.text == unknown.text
    login.never_says("trang quản lý", "đăng nhập", "http")
    assert await _links(app) == 0 and await audit_trail(app, "login_link_issued") == []


async def test_a_closed_account_never_gets_a_link(app: Application, sim: Chats, commune: Commune) -> None:
    """Closed by hand with the chat left linked (the service also unlinks it: then it is a stranger's chat)."""
    cadre = sim.chat("binh")
    await cadre.say(commune.cadre_code)
    async with app.store.transaction() as repos:
        await repos.staff.set_active(commune.cadre_id, False)
    refused = await cadre.say("/login")
    refused.says("Tài khoản này không còn hoạt động").never_says("http", "đường dẫn")
    (await cadre.say("/menu")).never_says("http")
    assert await _links(app) == 0
    [entry] = await audit_trail(app, "login_link_refused")
    assert (entry.outcome, entry.subject_id) == ("denied", commune.cadre_id)


async def test_a_replayed_request_issues_one_link_and_never_a_preview(
    app: Application, sim: Chats, commune: Commune, fake_telegram: FakeTelegram | None
) -> None:
    """The platform delivers the same /login twice: handled once; a reply sent again is the same link, still
    without a preview."""
    if sim.channel == "simulator":
        pytest.skip("the simulator has no platform updates to replay")
    officer = await _officer(sim, commune)
    first, second = await typed_twice(officer, "/login")
    _, token = _link(first.text)
    assert await _links(app) == 1
    assert second.text in ("", first.text)
    if fake_telegram is not None:
        assert set(map(json.dumps, _previews(fake_telegram, token))) == {json.dumps({"is_disabled": True})}


async def test_a_reply_kept_for_redelivery_keeps_its_no_preview(app: Application, channel_kind: str) -> None:
    """Replies are kept (sealed) until the platform confirms them; one sent again must still go without a preview."""
    if channel_kind != "simulator":
        pytest.skip("one database check is enough")
    kept = [OutboundMessage("link", no_preview=True), OutboundMessage("menu")]
    async with app.store.transaction() as repos:
        assert await repos.inbound.record("k1:telegram:1", "k1", kept)
    async with app.store.transaction() as repos:
        again = await repos.inbound.undelivered("k1:telegram:1", "k1")
    assert [(m.text, m.no_preview) for m in again] == [("link", True), ("menu", False)]
