"""Hostile input at the channel edge (issue 13): bounded, malformed and wrongly typed webhook bodies, a bad update in
polling mode, stale presses, per-channel webhook secrets, and /healthz naming a dead poller or scheduler."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.app import Application, build_application
from bot.channels.webhooks import MAX_BODY
from bot.config import Settings
from bot.runner import start_channels, start_scheduler
from bot.web.app import build_web
from tests.e2e.helpers import telegram_text
from tests.e2e.simulator_client import Simulator
from tests.e2e.telegram_client import TelegramChats
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, running
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import running as running_zalo
from tests.support.chats import Chats, linked_participant
from tests.support.config import TELEGRAM_TOKEN, ZALO_TOKEN
from tests.support.factories import Commune
from tests.support.server import serve
from tests.support.texts import SAFETY

TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_HEADER = "X-Bot-Api-Secret-Token"
DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000
DEEPER_THAN_ALLOWED = b"[" * 200 + b"]" * 200  # parses, but nests far beyond any real update


async def post(url: str, body: bytes | AsyncIterator[bytes], headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        return (await http.post(url, content=body, headers=headers | {"Content-Type": "application/json"})).status_code


async def stream_chunked(url: str, headers: dict[str, str], chunks: int = 800) -> tuple[bytes, int]:
    """POST 64 KiB chunks with no Content-Length, until the server answers; returns its status line and how many
    chunks were sent by then (httpx would send the whole body before reading the answer)."""
    target = httpx.URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    head = [f"POST {target.raw_path.decode()} HTTP/1.1", f"Host: {target.host}:{target.port}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += ["Content-Type: application/json", "Transfer-Encoding: chunked", "", ""]
    writer.write("\r\n".join(head).encode())
    answer = asyncio.ensure_future(reader.readline())
    sent = 0
    try:
        while sent < chunks and not answer.done():
            writer.write(b"10000\r\n" + b" " * 65536 + b"\r\n")
            sent += 1
            try:
                await asyncio.wait_for(writer.drain(), 1)
            except TimeoutError:
                break  # the server stopped reading
            await asyncio.sleep(0.002)
        return await asyncio.wait_for(answer, 10), sent
    finally:
        writer.close()


def zalo_text(user: str, text: Any, message_id: str, event: Any = "message.text.received") -> dict[str, Any]:
    return {
        "event_name": event,
        "message": {
            "from": {"id": user, "display_name": "An", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            "message_id": message_id,
            "date": 1_790_000_000_000,
            "text": text,
        },
    }


# ---- webhook bodies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
@pytest.mark.parametrize(
    "body", [DEEP, DEEPER_THAN_ALLOWED, b'{"update_id": 1, "message": ' * 900 + b"{}" + b"}" * 900]
)
async def test_telegram_webhook_acknowledges_deep_json(
    sim: TelegramChats, fake_telegram: FakeTelegram, body: bytes
) -> None:
    """Before: RecursionError → 500, which Telegram retries forever. Now: acknowledged (ok false), nothing sent."""
    status = await post(fake_telegram.webhook_url, body, {TELEGRAM_HEADER: fake_telegram.webhook_secret})
    assert status == 200
    assert fake_telegram.sent() == []


@pytest.mark.parametrize("channel_kind", ["zalo-webhook"])
@pytest.mark.parametrize("body", [DEEP, DEEPER_THAN_ALLOWED])
async def test_zalo_webhook_acknowledges_deep_json(sim: ZaloChats, fake_zalo: FakeZalo, body: bytes) -> None:
    assert await post(fake_zalo.webhook_url, body, {ZALO_HEADER: fake_zalo.webhook_secret}) == 200
    assert fake_zalo.sent() == []


@pytest.mark.parametrize("channel_kind", ["zalo-webhook"])
@pytest.mark.parametrize("event", [["message.text.received"], {"a": 1}, 5, None, True])
async def test_zalo_event_name_of_the_wrong_type_is_ignored(
    sim: ZaloChats, fake_zalo: FakeZalo, commune: Commune, event: Any
) -> None:
    """Before: `event not in _MEDIA` raised TypeError for a list or object → 500."""
    assert await fake_zalo.deliver(zalo_text("zu1", commune.an_code, "m-bad", event)) == 200
    assert fake_zalo.sent() == []
    (await sim.chat("an").say(commune.an_code)).says("1/3")  # and the webhook still works


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_a_body_over_the_limit_is_refused_while_it_is_read(
    sim: TelegramChats | ZaloChats, fake_telegram: FakeTelegram | None, fake_zalo: FakeZalo | None
) -> None:
    fake: Any = fake_telegram or fake_zalo
    header = TELEGRAM_HEADER if fake_telegram is not None else ZALO_HEADER
    headers = {header: fake.webhook_secret}
    assert await post(fake.webhook_url, b" " * (2 * 1024 * 1024), headers) == 413  # announced by Content-Length
    status_line, chunks = await stream_chunked(fake.webhook_url, headers)
    assert status_line.startswith(b"HTTP/1.1 413")
    assert chunks < 100  # answered after about 1 MiB of a 50 MiB body: the rest was never read
    assert await post(fake.webhook_url, b" " * (2 * 1024 * 1024), {header: "wrong"}) == (
        401 if fake_telegram is not None else 403
    )


# ---- linear work per body (issue 13 review) ---------------------------------------------------------------------

CPU_BOUND = 0.5  # seconds of this process's CPU (server, fakes and client alike) for one request: generous
MARKS = "\u0301\u0316"  # combining classes 230 and 220 alternating: NFC sorts such a run by insertion (quadratic)


# name: (unit, head); each body is the head, then the unit repeated to just under a size
ADVERSARIAL = {
    "unterminated escapes": (b'\\"', b'"'),
    "unterminated escapes in an update": (b'\\"', b'{"update_id": 7, "message": {"text": "'),
    "quotes": (b'"', b""),
    "open brackets and quotes": (b'["', b""),
    "deep objects": (b'{"a":', b""),
}


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
@pytest.mark.parametrize("shape", ADVERSARIAL.values(), ids=list(ADVERSARIAL))
async def test_adversarial_bodies_up_to_the_limit_are_answered_at_once(
    sim: TelegramChats | ZaloChats,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
    commune: Commune,
    shape: tuple[bytes, bytes],
) -> None:
    """Before: the depth check's string regex retried from every quote of an unterminated string, quadratic in the
    body: 64 KiB took 11 s of CPU, 1 MiB about 45 minutes, in the event loop (every webhook and /healthz stalled).
    64 KiB first, so a quadratic scan fails the test instead of hanging it."""
    fake: Any = fake_telegram or fake_zalo
    header = TELEGRAM_HEADER if fake_telegram is not None else ZALO_HEADER
    unit, head = shape
    for size in (64 * 1024, MAX_BODY):
        body = head + unit * ((size - len(head)) // len(unit))
        start = time.process_time()
        status = await post(fake.webhook_url, body, {header: fake.webhook_secret})
        spent = time.process_time() - start
        assert status == 200  # acknowledged as unreadable: retrying would not help
        assert spent < CPU_BOUND, f"{spent:.2f} s of CPU for {len(body)} bytes"
    assert fake.sent() == []
    (await sim.chat("an").say(commune.an_code)).says("1/3")


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
@pytest.mark.parametrize(
    "text",
    [
        "mình " + MARKS * 50_000,  # 100,000 alternating marks
        # about 1 MiB on the wire (marks travel as \\u escapes, 6 bytes each): a run of marks, then plain words
        "mình " + MARKS * 20_000 + " xin chao ban" * 60_000,
    ],
    ids=["100k alternating marks", "1 MiB text"],
)
async def test_hostile_text_is_answered_too_long_within_a_cpu_bound(
    sim: Chats, commune: Commune, fake_telegram: FakeTelegram | None, text: str
) -> None:
    """Before: the mapping ran NFC over the whole text before the engine's length bound: 100,000 alternating marks
    took seconds of CPU per message. Now the mapping only bounds it and replaces lone surrogates; the engine cleans
    (marks in a row capped) and composes a bounded start, and answers "too long"."""
    envelope = telegram_text(1, text, 1) if fake_telegram is not None else zalo_text("zu1", text, "m1")
    assert len(json.dumps(envelope)) < MAX_BODY  # as the fakes send it: within the limit, so it is read
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    start = time.process_time()
    said = await an.say(text)  # asserts 200: never a 500
    spent = time.process_time() - start
    said.says("quá dài").offers("Thông tin của tôi")
    assert spent < CPU_BOUND, f"{spent:.2f} s of CPU for one message"


@pytest.mark.parametrize("channel_kind", ["zalo-webhook"])
async def test_a_menu_choice_typed_decomposed_is_understood(sim: ZaloChats, commune: Commune) -> None:
    """The mapping no longer composes (NFC): a choice typed in decomposed Vietnamese is still matched, on the
    engine's cleaned text."""
    an = sim.chat("an")
    (await an.say(commune.an_code)).says("1/3")
    (await an.say(unicodedata.normalize("NFD", "Tôi đồng ý"))).says("2/3")


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "zalo-webhook"])
async def test_a_crisis_typed_decomposed_is_still_answered(sim: Chats, commune: Commune) -> None:
    """Crisis matching reads the engine's cleaned (composed) text, not the mapping's."""
    an = await linked_participant(sim, commune.an_code)  # type: ignore[arg-type]
    (await an.say(unicodedata.normalize("NFD", "mình không muốn sống nữa"))).says(*SAFETY)


# ---- polling survives any single bad update ----------------------------------------------------------------------


@pytest.mark.parametrize("channel_kind", ["zalo-polling"])
@pytest.mark.parametrize(
    "bad",
    [
        {"event_name": ["message.text.received"], "message": {"message_id": "x1"}},
        {"event_name": {"nested": True}, "message": {"message_id": "x1"}},
        zalo_text("zu9", ["not", "text"], "x1"),
        {"event_name": "message.text.received", "message": {"message_id": "x1", "from": [], "chat": 5}},
        {"event_name": "message.text.received", "message": {"message_id": "x1", "from": {"id": {"a": 1}}}},
    ],
)
async def test_zalo_polling_survives_a_malformed_update(
    sim: ZaloChats, fake_zalo: FakeZalo, app: Application, commune: Commune, bad: dict[str, Any]
) -> None:
    """Before: a TypeError in the mapping ended the polling task, and with it the channel."""
    fake_zalo.enqueue(bad)
    (await sim.chat("an").say(commune.an_code)).says("1/3")
    assert app.liveness is not None and app.liveness.report()[1]["zalo"]["status"] == "ok"


@pytest.mark.parametrize("channel_kind", ["telegram-polling"])
async def test_telegram_polling_skips_an_unreadable_update(
    sim: TelegramChats, fake_telegram: FakeTelegram, app: Application, commune: Commune
) -> None:
    """An update aiogram cannot validate (wrong types) would fail the whole batch and be fetched again forever."""
    bad = telegram_text(5_000_009, "x", fake_telegram.next_update_id())
    bad["message"]["chat"] = ["not", "a", "chat"]
    fake_telegram.enqueue(bad)
    (await sim.chat("an").say(commune.an_code)).says("1/3")
    assert fake_telegram.confirmed > bad["update_id"]
    assert app.liveness is not None and app.liveness.report()[1]["telegram"]["status"] == "ok"


# ---- stale presses -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_a_second_press_on_a_spent_keyboard_edits_nothing(
    sim: TelegramChats, fake_telegram: FakeTelegram, commune: Commune
) -> None:
    """Before: every press asked to remove the keyboard, and Telegram refused it once gone ("not modified")."""
    an = sim.chat("an")
    await an.say(commune.an_code)
    action, message_id = an.buttons["Tôi đồng ý"], an.button_message["Tôi đồng ý"]
    await an.press("Tôi đồng ý")
    await an.press_action(action, message_id)  # stale: the keyboard is gone
    await an.press_action("forged", message_id)
    edits = [c for c in fake_telegram.calls if c.method == "editMessageReplyMarkup"]
    assert [(c.status, str(c.params["message_id"])) for c in edits] == [(200, str(message_id))]
    assert len(fake_telegram.sent("answerCallbackQuery")) == 3  # every press is still answered


# ---- per-channel webhook secrets ---------------------------------------------------------------------------------


@pytest.fixture
async def both_webhooks(
    settings: Settings, clock: FakeClock, web_socket: socket.socket
) -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    """Telegram and Zalo by webhook on one server, with one AFTERCARE_WEBHOOK_SECRET."""
    async with (
        running(FakeTelegram(token=TELEGRAM_TOKEN)) as telegram,
        running_zalo(FakeZalo(token=ZALO_TOKEN)) as zalo,
    ):
        both = settings.model_copy(
            update={
                "telegram_token": SecretStr(TELEGRAM_TOKEN),
                "telegram_api_url": telegram.base_url,
                "zalo_token": SecretStr(ZALO_TOKEN),
                "zalo_api_url": zalo.base_url,
                "public_url": f"http://127.0.0.1:{web_socket.getsockname()[1]}",
                # not in Telegram's secret_token alphabet: the derived per-channel secrets are
                "webhook_secret": SecretStr("one+secret/for.both=channels"),
            }
        )
        application = build_application(both, clock=clock)
        try:
            await application.migrate()
            async with serve(build_web(application), web_socket):
                stop = asyncio.Event()
                tasks = await start_channels(application, stop)
                yield telegram, zalo
                stop.set()
                await asyncio.gather(*tasks)
        finally:
            await application.aclose()


@pytest.mark.parametrize("channel_kind", ["simulator"])
async def test_each_channel_has_its_own_webhook_secret(both_webhooks: tuple[FakeTelegram, FakeZalo]) -> None:
    telegram, zalo = both_webhooks
    assert telegram.webhook_secret and zalo.webhook_secret and telegram.webhook_secret != zalo.webhook_secret
    assert "one+secret" not in telegram.webhook_secret + zalo.webhook_secret
    update = telegram_text(5_000_001, "xin chào", 1)
    assert await telegram.deliver(dict(update), secret=zalo.webhook_secret) == 401
    assert await zalo.deliver(zalo_text("zu1", "xin chào", "m1"), secret=telegram.webhook_secret) == 403
    assert await telegram.deliver(dict(update)) == 200
    assert await zalo.deliver(zalo_text("zu1", "xin chào", "m1")) == 200


# ---- /healthz ----------------------------------------------------------------------------------------------------


async def health(app: Application) -> tuple[int, dict[str, Any]]:
    async with serve(build_web(app)) as base, httpx.AsyncClient(base_url=base) as http:
        response = await http.get("/healthz")
        return response.status_code, response.json()


async def until_beat(app: Application, *names: str) -> None:
    """Wait (bounded) until each component completed a first unit of work: no schedule is waited for."""
    for _ in range(500):
        components = app.liveness.report()[1] if app.liveness is not None else {}
        if all("last_beat_seconds_ago" in components.get(name, {}) for name in names):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no beat from {names}")


@pytest.mark.parametrize("channel_kind", ["telegram-polling", "zalo-polling"])
async def test_health_names_a_dead_poller(
    app: Application, fake_telegram: FakeTelegram | None, fake_zalo: FakeZalo | None, clock: FakeClock
) -> None:
    stop = asyncio.Event()
    tasks = await start_channels(app, stop)
    try:
        if fake_telegram is not None:
            name = "telegram"
            fake_telegram.enqueue(telegram_text(5_000_001, "xin chào", fake_telegram.next_update_id()))
        else:
            assert fake_zalo is not None
            name = "zalo"
            fake_zalo.enqueue(zalo_text("zu1", "xin chào", "m1"))
        await until_beat(app, name)
        status, body = await health(app)
        assert status == 200 and body["components"][name] == {
            "status": "ok",
            "mode": "polling",
            "last_beat_seconds_ago": 0,
        }
        clock.advance(minutes=10)  # no poll has come back for ten minutes (the platform is unreachable)
        status, body = await health(app)
        assert status == 503 and body["status"] == "unavailable"
        assert body["components"][name] == {
            "status": "dead",
            "mode": "polling",
            "reason": "silent",
            "last_beat_seconds_ago": 600,
        }
        clock.advance(minutes=-10)
        tasks[0].cancel()  # the poller task ends
        await asyncio.gather(*tasks, return_exceptions=True)
        status, body = await health(app)
        assert status == 503 and body["components"][name]["reason"] == "stopped"
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_health_reports_webhook_channels_as_alive(sim: TelegramChats, app: Application) -> None:
    status, body = await health(app)
    assert status == 200 and body["components"] == {"telegram": {"status": "ok", "mode": "webhook"}}


@pytest.mark.parametrize("channel_kind", ["simulator"])
async def test_health_names_a_stopped_scheduler(app: Application, clock: FakeClock) -> None:
    status, body = await health(app)
    assert status == 200 and body["components"] == {}
    jobs = start_scheduler(app)
    try:
        await until_beat(app, "scheduler_plan", "scheduler_dispatch")  # the first runs start at once
        status, body = await health(app)
        assert status == 200
        assert body["components"]["scheduler_plan"]["status"] == "ok"
        assert body["components"]["scheduler_dispatch"]["status"] == "ok"
    finally:
        jobs.shutdown(wait=False)
    clock.advance(minutes=2, seconds=1)  # dispatch runs every 5 s: two silent minutes mean it stopped
    status, body = await health(app)
    assert status == 503
    assert body["components"]["scheduler_dispatch"]["status"] == "dead"
    assert body["components"]["scheduler_plan"]["status"] == "ok"  # every 60 s: allowed three minutes
    clock.advance(minutes=1)
    status, body = await health(app)
    assert body["components"]["scheduler_plan"]["status"] == "dead"


# ---- the simulator answers only a developer's own browser --------------------------------------------------------


@pytest.mark.parametrize("channel_kind", ["simulator"])
async def test_simulator_refuses_foreign_hosts_origins_and_non_json(sim: Simulator) -> None:
    http = sim.http
    own = str(http.base_url).rstrip("/")
    message = "/simulator/api/chats/an/messages"
    assert (await http.post(message, json={"text": "chào"})).status_code == 200
    assert (await http.post(message, json={"text": "chào"}, headers={"Origin": own})).status_code == 200
    for host in ("localhost:8080", "[::1]:8080", "127.0.0.2"):
        assert (await http.get("/simulator/api/chats", headers={"Host": host})).status_code == 200, host
    # DNS rebinding: a page on attacker.example whose name now points at 127.0.0.1
    for host in ("attacker.example", "attacker.example:8080", "127.0.0.1.attacker.example", "", "127.0.0.1:x"):
        for path in ("/simulator", "/simulator/api/chats", "/simulator/api/chats/an/messages"):
            assert (await http.get(path, headers={"Host": host})).status_code == 403, (host, path)
    # CSRF: a form or fetch from another site
    for origin in ("http://attacker.example", "null", own.replace("127.0.0.1", "localhost")):
        response = await http.post(message, json={"text": "chào"}, headers={"Origin": origin})
        assert response.status_code == 403, origin
    body = '{"text": "chào"}'.encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = await http.post(message, content=body, headers=headers)
        assert response.status_code == 415, content_type
    response = await http.post(message, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    history = [m["text"] for m in (await http.get(message)).json()["messages"] if m["direction"] == "in"]
    assert history == ["chào", "chào", "chào"]  # nothing refused reached the bot
