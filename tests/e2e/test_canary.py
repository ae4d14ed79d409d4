"""Canary test: a person whose name, national ID, phone number and crisis words are unmistakable goes through every
flow (linking, consent, check-in, crisis, help, a conversation with a counsellor, the cadre's list, search, card,
notes and test results, the officer's lists, the CLI); nothing they typed or are called ever reaches stdout, stderr
(our lines, uvicorn's, APScheduler's, tracebacks) or the audit table. Lists and searches are audited by shape only.

Part one runs in process with JSON logs captured; part two runs a real `aftercare run` with JSON logs against the
fake Telegram, with uvicorn and APScheduler inside it, and reads its stdout and stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from collections.abc import Iterator
from contextlib import suppress
from datetime import date
from pathlib import Path

import httpx
import pytest

from bot.app import Application
from bot.domain.entities import RiskLevel
from bot.logging import configure_logging
from bot.services.audit_chain import verify_chain
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.clock import FakeClock
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import Fault as ZaloFault
from tests.fakes.zalo_api import running_in_thread as zalo_in_thread
from tests.support.chats import Chats, at_local, link_participant, on_duty, replayed, talking
from tests.support.cli import call, ok_json
from tests.support.config import TEST_KEY
from tests.support.factories import Commune, add_person
from tests.support.processes import bot_process, healthy, until
from tests.support.records import audit_trail

NAME = "Canary Nguyễn Văn Xyzzy"
NATIONAL_ID = "079912345678"
PHONE = "0912 345 678"
CRISIS = "Xyzzy thật sự không muốn sống nữa"
CANARIES = (NAME, "Xyzzy", "xyzzy", NATIONAL_ID, PHONE, PHONE.replace(" ", ""), "không muốn sống", "khong muon song")
ZALO_TOKEN = "5550001:zalo-canary-token-value"


def leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


def non_json_lines(text: str) -> list[str]:
    bad = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError:
            bad.append(line)
    return bad


@pytest.fixture
def json_logs() -> Iterator[None]:
    """Production's log configuration (JSON), with our own debug lines switched on too."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    configure_logging(json_logs=True, level=logging.DEBUG)
    try:
        yield
    finally:
        root.handlers[:], root.level, sys.excepthook = handlers, level, hook


async def _audit_table(app: Application) -> str:
    rows = await audit_trail(app)
    return "\n".join(f"{r.actor_type} {r.action} {r.outcome} {r.subject_type} {json.dumps(r.detail)}" for r in rows)


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"], indirect=True)
async def test_canaries_never_reach_logs_or_the_audit_table(
    app: Application,
    sim: Chats,
    commune: Commune,
    clock: FakeClock,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with app.store.transaction() as repos:
        person, invite = await add_person(
            app.enrolment(repos), NAME, cadre_id=commune.cadre_id, risk=RiskLevel.HIGH, national_id=NATIONAL_ID
        )
    label = f"{NAME} (#{person.id})"
    canary, cadre, officer, counsellor = (sim.chat(n) for n in ("canary", "binh", "cuong", "dung"))
    await link_participant(canary, invite.code)  # linking and consent
    await cadre.say(commune.cadre_code)
    await officer.say(commune.officer_code)
    await counsellor.say(commune.counsellor_code)
    clock.set(at_local(date(2026, 12, 12)))
    for chat in (canary, cadre, officer, counsellor):
        await chat.during(app.scheduler.tick)

    # Check-in, interrupted by a crisis that carries a phone number and a national ID.
    await canary.say("/menu")
    await canary.press("Điểm danh tháng này")
    await canary.press("Tốt")
    (await canary.say(f"{CRISIS}. Số em {PHONE}, CCCD {NATIONAL_ID}")).says("115")
    for chat in (cadre, counsellor, officer):
        await chat.during(app.scheduler.tick)
    # Help, then a conversation with the counsellor.
    await canary.say("giúp")
    await canary.press("Yêu cầu hỗ trợ (học nghề, việc làm, …)")
    await canary.press("Học nghề")
    await on_duty(counsellor)
    await talking(app, canary, counsellor)
    await canary.say(f"Em là {NAME}, gọi em số {PHONE}")
    await counsellor.during(app.scheduler.tick)
    await counsellor.say(f"Chào {NAME}, mình sẽ gọi {PHONE}")
    await canary.during(app.scheduler.tick)
    await counsellor.say("/menu")
    await counsellor.press("Yêu cầu tư vấn")

    # The cadre: list, a search by name, the card, a note and a test result.
    await cadre.say("/menu")
    (await cadre.press("Người tôi đồng hành")).says(label)
    (await cadre.say("xyzzy")).says(label)
    (await cadre.press(label)).says(label)
    await cadre.press("Ghi chú")
    await cadre.say(f"Đã gặp {NAME}, số {PHONE}, CCCD {NATIONAL_ID}")
    await cadre.press("Gia đình")
    await cadre.press("Không")
    await cadre.press("Kết quả xét nghiệm")
    await cadre.press("Xét nghiệm ngoài lịch")
    await cadre.press("Dương tính")
    await cadre.press("Không rõ / bỏ qua")
    await cadre.press("Hôm nay (12/12/2026)")
    await cadre.say(f"Trạm y tế, người thử: {NAME}")
    await replayed(cadre, "Lưu kết quả")
    # The officer's lists.
    await officer.say("/menu")
    (await officer.press("Danh sách xã/phường")).says(label)
    await officer.say("/menu")
    await officer.press("Chờ xác nhận")
    for chat in (canary, cadre, officer, counsellor):
        await chat.during(app.scheduler.tick)

    # The CLI, in its own event loop like an operator's shell.
    env = {
        "AFTERCARE_DATABASE_URL": app.settings.database_url,
        "AFTERCARE_DATA_DIR": str(app.settings.data_dir),
        "AFTERCARE_ENCRYPTION_KEY": TEST_KEY,
        "AFTERCARE_LOG_FORMAT": "json",
    }
    added = await asyncio.to_thread(
        call, env, "participant", "add", "--name", f"{NAME} Hai", "--unit", "HD", "--start", "2026-12-01",
        "--term-months", "12", "--national-id", "079912345679", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert not leaks(added.output) and "079912345679" not in added.output

    captured = capsys.readouterr()
    assert not leaks(captured.out), leaks(captured.out)
    assert not leaks(captured.err), leaks(captured.err)
    assert not non_json_lines(captured.err), non_json_lines(captured.err)[:3]
    audit = await _audit_table(app)
    assert not leaks(audit) and "079912345679" not in audit, leaks(audit)

    # Lists and searches were audited: who, which list, scope, page, count; the search only by kind and length.
    rows = [entry for entry in await audit_trail(app) if entry.action in ("list_opened", "list_searched")]
    chain = await verify_chain(app.store)
    opened = {(r.action, r.detail.get("list"), r.actor_type) for r in rows}
    assert {
        ("list_opened", "caseload:assigned", "staff"),
        ("list_searched", "caseload:assigned", "staff"),
        ("list_opened", "caseload:commune", "staff"),
        ("list_opened", "officer_desk", "staff"),
        ("list_opened", "referrals", "staff"),
    } <= opened
    search = next(r for r in rows if r.action == "list_searched")
    assert search.detail == {
        "channel": "telegram", "list": "caseload:assigned", "results": 1, "page": 1, "search": "text", "length": 5,
    }  # fmt: skip
    assert search.subject_type == "unit" and search.actor_id is not None
    assert chain.ok, chain


def _garbage_request(port: int) -> None:
    """Bytes that are not HTTP: uvicorn logs a warning of its own about them."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all " + NAME.encode() + b"\r\n\r\n")
        with suppress(OSError):
            sock.recv(1024)


def test_a_real_run_writes_only_json_and_no_canary(database_url: str, tmp_path: Path) -> None:
    env = {
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
        "AFTERCARE_ENCRYPTION_KEY": TEST_KEY,
        "AFTERCARE_ENVIRONMENT": "development",
        "AFTERCARE_LOG_FORMAT": "json",
    }
    ok_json(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    ok_json(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    person = ok_json(
        env, "participant", "add", "--name", NAME, "--unit", "HL", "--start", "2026-01-01", "--term-months", "12",
        "--national-id", NATIONAL_ID,
    )  # fmt: skip
    # Zalo rather than Telegram: the same logging path without aiogram's start-up cost.
    with zalo_in_thread(lambda: FakeZalo(token=ZALO_TOKEN)) as fake:
        fake.inject("getUpdates", ZaloFault(502, shape="html"))  # a failed poll to log about
        user = ZaloChats(fake, webhook=False).chat("canary")
        fake.updates.append(user.update("message.text.received", text=person["invite_code"]))
        fake.updates.append(user.update("message.text.received", text=f"{CRISIS}, số {PHONE}, CCCD {NATIONAL_ID}"))
        settings = {"zalo_token": ZALO_TOKEN, "zalo_api_url": fake.base_url, "plan_interval_seconds": "5"}
        with bot_process(env, tmp_path, **settings) as bot:
            until(lambda: healthy(bot.port), within=60)
            until(lambda: len(fake.sent(user.user_id)) >= 2)
            served = healthy(bot.port)
            if served:
                _garbage_request(bot.port)
                httpx.get(f"http://127.0.0.1:{bot.port}/healthz?token={NATIONAL_ID}", timeout=5)
    stdout, stderr = bot.stdout, bot.stderr
    assert served and fake.sent(user.user_id), bot.output
    assert bot.process.returncode == 0, bot.output
    assert not leaks(stdout + stderr), leaks(stdout + stderr)
    assert ZALO_TOKEN.split(":")[1] not in stdout + stderr
    assert not non_json_lines(stderr), non_json_lines(stderr)[:3]
    assert not non_json_lines(stdout), non_json_lines(stdout)[:3]  # "running" too is a JSON line
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines), stderr[-2000:]  # its own warning
    assert any(line.get("event") == "audit_sealed" for line in lines), stderr[-2000:]  # APScheduler ran the plan
