"""The operator's revocation commands and who an audit entry names (`--as`, the OS user), against a real database;
the start-up cost (no platform library imported unless needed) and `run` on a busy port, as real processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.db.models import AuditEventRow, ChannelIdentityRow
from bot.domain.entities import Role
from bot.services.operators import os_user
from tests.support.cli import call, ok_json

ROOT = Path(__file__).resolve().parents[2]


async def _cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:  # the CLI runs its own event loop
    return await asyncio.to_thread(ok_json, env, *args)


async def _cli(env: dict[str, str], *args: str) -> Any:
    return await asyncio.to_thread(call, env, *args)


async def _entries(app: Any, action: str) -> list[AuditEventRow]:
    async with app.store.transaction() as repos:
        stmt = select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.id)
        return list((await repos.session.execute(stmt)).scalars())


async def _seed(app: Any) -> dict[str, int]:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        await service.add_unit("HL", "Phường Hạ Long", "QN")
        officer, _ = await service.add_staff("Cường", Role.OFFICER, "HL", None, "vi")
        cadre, _ = await service.add_staff("Bình", Role.CADRE, "HL", None, "vi")
        await repos.identities.link("telegram", "7001", staff_id=cadre.id)
        await repos.identities.link("zalo", "z-7001", staff_id=cadre.id)
        await repos.identities.link("telegram", "7002", staff_id=officer.id)
    return {"officer": officer.id, "cadre": cadre.id}


async def test_deactivate_unlink_reinvite_and_who_is_recorded(app: Any, env: dict[str, str]) -> None:
    ids = await _seed(app)
    cadre, officer = str(ids["cadre"]), str(ids["officer"])

    unknown = await _cli(env, "--as", "999", "staff", "deactivate", "--id", cadre, "--json")
    assert unknown.exit_code == 1 and "--as 999" in unknown.stdout  # refused before anything is done
    kept = await _cli_json(env, "--as", officer, "staff", "invite", "--id", cadre)
    assert kept["linked_chats"] == 2 and kept["unlinked_chats"] == 0  # the old phones still work: said so
    assert "2 chat(s) still linked" in (await _cli(env, "staff", "invite", "--id", cadre)).stdout

    one = await _cli_json(env, "--as", officer, "chat", "unlink", "--staff", cadre, "--channel", "zalo")
    assert one == {"unlinked_chats": 1, "channels": ["zalo"], "staff_id": ids["cadre"], "linked_chats": 1}
    both = await _cli(env, "chat", "unlink", "--staff", cadre, "--participant", "1", "--json")
    assert both.exit_code == 1 and "exactly one" in both.stdout

    done = await _cli_json(env, "--as", officer, "staff", "deactivate", "--id", cadre)
    assert done["unlinked_chats"] == 1 and done["active"] is False
    refused = await _cli(env, "--as", cadre, "unit", "list", "--json")  # a closed account cannot be named either
    assert refused.exit_code == 1 and "not active" in refused.stdout
    assert (await _cli(env, "staff", "invite", "--id", cadre, "--json")).exit_code == 1  # reopen first
    reopened = await _cli_json(env, "staff", "activate", "--id", cadre)
    assert reopened == {"staff_id": ids["cadre"], "active": True, "linked_chats": 0}
    revoked = await _cli_json(env, "staff", "invite", "--id", officer, "--revoke-chats")
    assert revoked["unlinked_chats"] == 1 and revoked["linked_chats"] == 0

    async with app.store.transaction() as repos:
        assert not (await repos.session.execute(select(ChannelIdentityRow))).scalars().all()
    [deactivated] = await _entries(app, "staff_deactivated")
    assert (deactivated.actor_type, deactivated.actor_id) == ("operator", ids["officer"])
    assert deactivated.detail["os_user"] == os_user() and deactivated.subject_id == ids["cadre"]
    [activated] = await _entries(app, "staff_activated")
    assert activated.actor_id is None and activated.detail == {"os_user": os_user()}  # no --as: the OS user alone
    unlinked = await _entries(app, "chat_unlinked")
    assert [(e.actor_id, e.detail["reason"], e.detail["chats"]) for e in unlinked] == [
        (ids["officer"], "unlinked", 1),
        (None, "reinvite", 1),
    ]
    op = "operator"
    from_cli = [e for e in await _entries(app, "invite_issued") if "os_user" in e.detail]  # not the seeding's
    officer_id = ids["officer"]
    assert [(e.actor_type, e.actor_id) for e in from_cli] == [(op, officer_id), (op, None), (op, None)]


async def test_completions_listing_is_audited_without_names(app: Any, env: dict[str, str]) -> None:
    await _seed(app)
    await _cli_json(env, "participant", "add", "--name", "Nguyễn Văn An", "--unit", "HL", "--start", "2020-01-01",
                    "--term-months", "12")  # fmt: skip
    await _cli_json(env, "tick")
    listed = await _cli_json(env, "participant", "completions", "--unit", "HL")
    assert [p["name"] for p in listed["completed"]] == ["Nguyễn Văn An"]
    [entry] = await _entries(app, "completions_listed")
    assert entry.subject_type == "unit" and entry.detail == {"os_user": os_user(), "count": 1}
    assert "Nguyễn" not in str(entry.detail)


async def test_audit_verify_reports_an_edited_entry(app: Any, env: dict[str, str]) -> None:
    await _seed(app)
    intact = await _cli_json(env, "audit", "verify")
    assert intact["ok"] is True and intact["entries"] >= 3 and intact["first_bad_id"] is None
    first = (await _entries(app, "staff_added"))[0]
    async with app.store.transaction() as repos:
        await repos.session.execute(
            update(AuditEventRow).where(AuditEventRow.id == first.id).values(actor_id=42)  # type: ignore[arg-type]
        )
    broken = await _cli(env, "audit", "verify", "--json")
    assert broken.exit_code == 1
    assert '"ok": false' in broken.stdout and f'"first_bad_id": {first.id}' in broken.stdout
    assert "BROKEN" in (await _cli(env, "audit", "verify")).stdout


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_commands_without_a_platform_never_import_its_library(env: dict[str, str]) -> None:
    imported = _python("import bot.cli, sys; assert 'aiogram' not in sys.modules and 'httpx' not in sys.modules", env)
    assert imported.returncode == 0, imported.stderr
    built = _python(
        "import sys\n"
        "from bot.app import build_application\n"
        "from bot.config import Settings\n"
        "from bot.runner import start_channels\n"
        "from bot.web.app import build_web\n"
        "app = build_application(Settings())\n"
        "build_web(app)\n"
        "assert 'aiogram' not in sys.modules and 'httpx' not in sys.modules, 'a platform library was imported'\n",
        env,
    )
    assert built.returncode == 0, built.stderr
    # With a token, the channel is built (and aiogram imported) on first use, not before.
    lazy = _python(
        "import sys\n"
        "from bot.app import build_application\n"
        "from bot.config import Settings\n"
        "app = build_application(Settings())\n"
        "assert 'aiogram' not in sys.modules\n"
        "assert app.telegram is not None and 'aiogram' in sys.modules\n",
        {**env, "AFTERCARE_TELEGRAM_TOKEN": "123456789:AAE-test-token-for-the-fake-bot-api"},
    )
    assert lazy.returncode == 0, lazy.stderr


def test_run_on_a_busy_port_says_so_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env={**os.environ, **env, "AFTERCARE_HTTP_PORT": str(port)},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 1
    assert "is running" not in stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], stderr
    assert "Traceback" not in stderr
