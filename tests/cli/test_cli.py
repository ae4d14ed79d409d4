"""Every CLI command, with --json, against a real database; `run` as a real process."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.db.revision import script_head
from bot.domain.entities import RiskLevel, Role
from bot.services import relay
from tests.e2e.helpers import telegram_text
from tests.e2e.zalo_client import ZaloChats
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram, Fault, running_in_thread
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import Fault as ZaloFault
from tests.fakes.zalo_api import running_in_thread as zalo_in_thread
from tests.support.cli import call, ok_json
from tests.support.processes import bot_process, healthy, until

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"


@pytest.mark.empty_database  # a first install: every migration from nothing, as an operator's first command
def test_setting_up_a_commune_from_the_cli(env: dict[str, str]) -> None:
    assert ok_json(env, "db", "upgrade")["revision"] == script_head()
    province = ok_json(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    assert province["level"] == "province"
    ward = ok_json(env, "unit", "add", "--code", "hl", "--name", "Phường Hạ Long", "--parent", "QN")
    assert ward == {"id": 2, "code": "HL", "name": "Phường Hạ Long", "level": "commune", "parent_id": 1}
    assert [u["code"] for u in ok_json(env, "unit", "list")["units"]] == ["HL", "QN"]

    point = ok_json(env, "point", "add", "--unit", "HL", "--name", "Điểm tư vấn Hạ Long", "--phone", "0203 3000 000")
    cadre = ok_json(env, "staff", "add", "--name", "Vũ Thị Hoa", "--role", "cadre", "--unit", "HL")
    counsellor = ok_json(
        env, "staff", "add", "--name", "Ngô Văn Tư", "--role", "counsellor", "--unit", "HL", "--point", str(point["id"])
    )
    assert counsellor["role"] == "counsellor"
    person = ok_json(
        env,
        "participant",
        "add",
        "--name",
        "Nguyễn Văn An",
        "--unit",
        "HL",
        "--start",
        "2026-03-31",
        "--term-months",
        "24",
        "--cadre",
        str(cadre["id"]),
        "--risk",
        "high",
        "--language",
        "en",
    )
    assert person["expected_end"] == "2028-03-31"
    assert len(person["invite_code"].replace("-", "")) >= 8
    assert person["invite_expires_at"].startswith("2026-") or person["invite_expires_at"].startswith("2027-")

    again = ok_json(env, "participant", "invite", "--id", str(person["id"]))
    assert again["invite_code"] != person["invite_code"]
    staff_again = ok_json(env, "staff", "invite", "--id", str(cadre["id"]))
    assert staff_again["invite_code"] != cadre["invite_code"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("unit", "add", "--code", "X", "--name", "Y", "--parent", "NOPE"), "no unit with code NOPE"),
        (("staff", "add", "--name", "A", "--role", "cadre", "--unit", "NOPE"), "no unit"),
        (
            ("participant", "add", "--name", "A", "--unit", "NOPE", "--start", "2026-13-01", "--term-months", "12"),
            "YYYY-MM-DD",
        ),
        (("participant", "invite", "--id", "42"), "no participant 42"),
    ],
)
def test_errors_are_one_json_object_and_exit_1(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    result = call(env, *args, "--json")
    assert result.exit_code == 1
    assert message in json.loads(result.stdout)["error"]


def test_human_output_without_json(env: dict[str, str]) -> None:
    call(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    call(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    result = call(env, "staff", "add", "--name", "Vũ Thị Hoa", "--role", "officer", "--unit", "HL")
    assert result.exit_code == 0 and "invite code" in result.stdout


def test_console_chat_links_a_participant(env: dict[str, str]) -> None:
    call(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    call(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    person = ok_json(
        env, "participant", "add", "--name", "An", "--unit", "HL", "--start", "2026-01-01", "--term-months", "12"
    )
    script = "\n".join(["xin chào", person["invite_code"].lower(), "1", "1", "2", "1", "4", ":sticker", ":quit"]) + "\n"
    result = call(env, "chat", input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "hãy gửi mã mời" in out
    assert "[1] Tôi đồng ý   [2] Tôi không đồng ý" in out
    assert "mọi thứ đã sẵn sàng" in out
    assert "Thời gian quản lý: 12 tháng" in out
    assert "Mình chỉ đọc được tin nhắn chữ" in out


def test_keygen_prints_a_usable_key() -> None:
    result = CliRunner().invoke(cli, ["keygen"])
    import base64

    assert len(base64.urlsafe_b64decode(result.stdout.strip())) == 32


def test_help_texts_list_the_operator_contract() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("run", "db", "unit", "staff", "participant", "chat"):
        assert command in result.stdout


def test_run_migrates_and_serves_the_simulator(env: dict[str, str], tmp_path: Path) -> None:
    with bot_process(env, tmp_path) as bot:
        until(lambda: healthy(bot.port))
        health = httpx.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=5)
        assert {k: health.json()[k] for k in ("status", "database")} == {"status": "ok", "database": "ok"}
        page = httpx.get(f"http://127.0.0.1:{bot.port}/simulator", timeout=5)
        assert page.status_code == 200 and "Đồng Hành" in page.text
    assert f"http://127.0.0.1:{bot.port}/simulator" in bot.output
    assert bot.process.returncode == 0


def test_run_runs_the_scheduler_jobs(env: dict[str, str], tmp_path: Path) -> None:
    """APScheduler inside `run` plans on start: a term that ended long ago is listed for completion."""
    call(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    call(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    person = ok_json(
        env, "participant", "add", "--name", "An", "--unit", "HL", "--start", "2020-01-01", "--term-months", "12"
    )
    with bot_process(env, tmp_path) as bot:
        until(lambda: healthy(bot.port))
        until(lambda: ok_json(env, "participant", "completions", "--unit", "HL")["completed"])
        completed = ok_json(env, "participant", "completions", "--unit", "HL")["completed"]
    assert [p["id"] for p in completed] == [person["id"]]
    assert "scheduler_started" in bot.output and bot.process.returncode == 0


def test_invites_carry_a_telegram_deep_link_when_telegram_is_configured(env: dict[str, str]) -> None:
    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        telegram_env = {**env, "AFTERCARE_TELEGRAM_TOKEN": TOKEN, "AFTERCARE_TELEGRAM_API_URL": fake.base_url}
        ok_json(telegram_env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
        ok_json(telegram_env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
        person = ok_json(
            telegram_env,
            "participant",
            "add",
            "--name",
            "An",
            "--unit",
            "HL",
            "--start",
            "2026-01-01",
            "--term-months",
            "12",
        )
        compact = person["invite_code"].replace("-", "")
        assert person["telegram_link"] == f"https://t.me/{BOT_USERNAME}?start={compact}"
        human = call(telegram_env, "staff", "add", "--name", "Hoa", "--role", "cadre", "--unit", "HL")
        assert f"https://t.me/{BOT_USERNAME}?start=" in human.stdout
    # Without Telegram there is no link, and nothing tries to reach it.
    plain = ok_json(env, "participant", "invite", "--id", str(person["id"]))
    assert "telegram_link" not in plain


def test_run_with_telegram_polls_answers_and_never_logs_the_token(env: dict[str, str], tmp_path: Path) -> None:
    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        fake.inject("getUpdates", Fault(502, "Bad Gateway"))  # something to log about
        fake.updates.append(telegram_text(77, "xin chào", 1))
        with bot_process(env, tmp_path, telegram_token=TOKEN, telegram_api_url=fake.base_url) as bot:
            until(lambda: fake.sent(chat_id=77))
            replies = [c.params["text"] for c in fake.sent(chat_id=77)]
            assert replies and "hãy gửi mã mời" in replies[0]
    assert bot.process.returncode == 0, bot.output
    assert "telegram_retry" in bot.output or "telegram_poll_failed" in bot.output
    assert TOKEN not in bot.output and TOKEN.split(":")[1] not in bot.output
    assert fake.confirmed >= 2  # the handled update was confirmed before exit
    assert {c.method for c in fake.calls} >= {"getMe", "setMyCommands", "deleteWebhook", "getUpdates"}


def test_run_with_zalo_polls_answers_and_never_logs_the_token(env: dict[str, str], tmp_path: Path) -> None:
    token = "5550001:zalo-secret-token-value"
    with zalo_in_thread(lambda: FakeZalo(token=token)) as fake:
        fake.inject("getUpdates", ZaloFault(502, shape="html"))  # something to log about
        user = ZaloChats(fake, webhook=False).chat("an")
        fake.updates.append(user.update("message.text.received", text="xin chào"))
        with bot_process(env, tmp_path, zalo_token=token, zalo_api_url=fake.base_url) as bot:
            until(lambda: fake.sent(user.user_id))
            replies = [c.params["text"] for c in fake.sent(user.user_id)]
            assert replies and "hãy gửi mã mời" in replies[0]
    assert bot.process.returncode == 0, bot.output
    assert "zalo_poll_failed" in bot.output
    assert token not in bot.output and "zalo-secret-token-value" not in bot.output


def test_schedule_commands_tick_absence_completion_and_outbox(env: dict[str, str]) -> None:
    """A cron-driven deployment: `tick --at` plans and sends; the officer's absence moves the end of the term."""
    call(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    call(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    configured = ok_json(env, "unit", "set", "--code", "HL", "--due-day", "5", "--test-place", "Trạm y tế")
    assert configured == {"code": "HL", "checkin_due_day": 5, "test_place": "Trạm y tế", "test_hours": ""}
    assert call(env, "unit", "set", "--code", "HL", "--due-day", "31", "--json").exit_code == 1
    cadre = ok_json(env, "staff", "add", "--name", "Bình", "--role", "cadre", "--unit", "HL")
    person = ok_json(
        env, "participant", "add", "--name", "An", "--unit", "HL", "--start", "2025-11-01", "--term-months", "12",
        "--cadre", str(cadre["id"]),
    )  # fmt: skip
    absence = ok_json(
        env, "absence", "add", "--participant", str(person["id"]), "--from", "2026-03-01", "--to", "2026-03-10",
        "--unreported", "--reason", "đi làm xa",
    )  # fmt: skip
    assert absence["expected_end"] == "2026-11-11"
    reported = ok_json(
        env, "absence", "add", "--participant", str(person["id"]), "--from", "2026-04-01", "--to", "2026-04-03",
        "--reported",
    )  # fmt: skip
    assert reported["expected_end"] == "2026-11-11"
    bad = call(env, "absence", "add", "--participant", str(person["id"]), "--from", "2026-04-03", "--to", "2026-04-01",
               "--reported", "--json")  # fmt: skip
    assert bad.exit_code == 1 and "cannot end before it starts" in bad.stdout
    # Never linked, so no reminders; the (extended) term ended on 11/11, so the tick lists An for completion.
    assert ok_json(env, "tick", "--at", "2026-11-11T08:00:00+07:00")["plan"]["completed"] == 0
    ticked = ok_json(env, "tick", "--at", "2026-11-23T08:00:00+07:00")
    assert ticked["at"] == "2026-11-23T01:00:00+00:00" and ticked["plan"]["completed"] == 1
    assert ok_json(env, "participant", "completions", "--unit", "HL") == {
        "completed": [{"id": person["id"], "name": "An", "completed_on": "2026-11-11"}]
    }
    assert ok_json(env, "outbox", "status") == {"counts": {"cancelled": 1}, "oldest_due_seconds": None}  # no chat
    assert ok_json(env, "outbox", "dead", "--unit", "HL") == {"messages": []}
    assert ok_json(env, "tick", "--at", "2026-11-24T08:00:00+07:00")["plan"]["completed"] == 0
    assert call(env, "tick", "--at", "yesterday", "--json").exit_code == 1
    assert "Plan and dispatch everything due" in call(env, "tick", "--help").stdout


def test_officer_bulk_commands_assign_escalations_reviews(env: dict[str, str]) -> None:
    """Bulk assignment from the CLI (the old cadre loses the people, the new one gets them), open alerts and reviews."""
    call(env, "unit", "add", "--code", "QN", "--name", "Tỉnh Quảng Ninh")
    call(env, "unit", "add", "--code", "HL", "--name", "Phường Hạ Long", "--parent", "QN")
    call(env, "unit", "add", "--code", "CP", "--name", "Phường Cẩm Phả", "--parent", "QN")
    old = ok_json(env, "staff", "add", "--name", "Bình", "--role", "cadre", "--unit", "HL")
    new = ok_json(env, "staff", "add", "--name", "Giang", "--role", "cadre", "--unit", "HL")
    elsewhere = ok_json(env, "staff", "add", "--name", "Hùng", "--role", "cadre", "--unit", "CP")
    people = [
        ok_json(env, "participant", "add", "--name", name, "--unit", "HL", "--start", "2026-10-01",
                "--term-months", "12", "--cadre", str(old["id"]))["id"]
        for name in ("An", "Bích")
    ]  # fmt: skip
    assigned = ok_json(env, "participant", "assign", *map(str, people), "--cadre", str(new["id"]))
    assert assigned == {"assigned": people, "cadre_id": new["id"]}
    refused = call(env, "participant", "assign", str(people[0]), "--cadre", str(elsewhere["id"]), "--json")
    assert refused.exit_code == 1 and "active cadre of the person's commune" in refused.stdout
    assert call(env, "participant", "assign", "999", "--cadre", str(new["id"]), "--json").exit_code == 1
    assert ok_json(env, "escalation", "list", "--unit", "HL") == {"open": []}
    status = ok_json(env, "review", "status", "--unit", "HL", "--quarter", "2026-Q4")
    assert status == {
        "quarter": "2026-Q4",
        "written": 0,
        "total": 2,
        "missing": [{"participant_id": pid, "cadre_id": new["id"]} for pid in people],
    }
    assert "Assign or reassign a cadre" in call(env, "participant", "assign", "--help").stdout


async def test_referral_figures_and_point_hours(app: Any, clock: Any, env: dict[str, str]) -> None:
    """Two counselling requests answered after 4 and 10 minutes, one never taken, one for a job: the report counts
    access and the median first reply; a point's hours are read, and refused when they cannot be."""

    async def cli_json(*args: str) -> dict[str, Any]:  # the CLI runs its own event loop: in a thread
        return await asyncio.to_thread(ok_json, env, *args)

    async def cli_call(*args: str) -> Any:
        return await asyncio.to_thread(call, env, *args)

    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        await service.add_unit("HL", "Phường Hạ Long", "QN")
        point = await service.add_point("HL", "Điểm tư vấn Hạ Long", "", "", "")
        counsellor, _ = await service.add_staff("Dung", Role.COUNSELLOR, "HL", point.id, "vi")
        person, _ = await service.add_participant(
            name="An", unit_code="HL", start=date(2026, 1, 15), term_months=12, cadre_id=None,
            risk=RiskLevel.LOW, language="vi",
        )  # fmt: skip
    for answer_after in (4, 10, None):
        async with app.store.transaction() as repos:
            rid = await repos.referrals.request(person.id, "counselling", source="help", point_id=point.id)
        if answer_after is None:
            continue
        clock.advance(minutes=answer_after)
        async with app.store.transaction() as repos:
            await repos.referrals.accept(rid, counsellor.id)
            referral = await repos.referrals.get(rid)
            await relay.from_counsellor(repos, referral, counsellor.id, "Chào bạn", clock.now())
    async with app.store.transaction() as repos:
        await repos.referrals.request(person.id, "job", source="help", point_id=point.id)

    day = clock.now().date().isoformat()
    stats = await cli_json("referral", "stats", "--unit", "QN", "--from", day, "--to", day)
    assert stats["requested"] == 4 and stats["by_kind"] == {"counselling": 3, "job": 1}
    assert stats["accessed_counselling"] == 2 and stats["median_minutes_to_first_reply"] == 7.0
    before = (clock.now() - timedelta(days=2)).date().isoformat()
    assert (await cli_json("referral", "stats", "--unit", "HL", "--from", before, "--to", before))["requested"] == 0
    human = await cli_call("referral", "stats", "--unit", "HL", "--from", day, "--to", day)
    assert "2 reached a counsellor, median first reply 7.0 min" in human.stdout
    bad_dates = await cli_call("referral", "stats", "--unit", "HL", "--from", "30/11", "--to", day, "--json")
    assert bad_dates.exit_code == 1 and "YYYY-MM-DD" in bad_dates.stdout

    changed = await cli_json("point", "hours", "--id", str(point.id), "--hours", "T2-T6 7:30-17:00; T7 8:00-11:00")
    assert changed == {"id": point.id, "hours": "T2-T6 7:30-17:00; T7 8:00-11:00"}
    refused = await cli_call("point", "hours", "--id", str(point.id), "--hours", "giờ hành chính", "--json")
    assert refused.exit_code == 1 and "unknown day" in refused.stdout
    refused = await cli_call("point", "add", "--unit", "HL", "--name", "X", "--hours", "T2 9:00-8:00", "--json")
    assert refused.exit_code == 1 and "closes before it opens" in refused.stdout
    assert (await cli_call("point", "hours", "--id", "999", "--hours", "", "--json")).exit_code == 1
