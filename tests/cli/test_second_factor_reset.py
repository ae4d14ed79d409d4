"""`aftercare staff reset-second-factor`: an admin who lost their authenticator gets a new setup at the next sign-in,
their open console sessions end, the operator's act is audited; an unknown id is refused. Against a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import select

from bot.core.clock import SystemClock
from bot.db.models import AuditEventRow, ConsoleSessionRow, StaffRow
from bot.domain.entities import Role
from bot.services import signin
from bot.services.operators import os_user
from tests.support.cli import call, ok_json

POLICY = signin.SessionPolicy(idle=timedelta(hours=1), lifetime=timedelta(hours=8))


async def _admin_signed_in(app: Any) -> tuple[int, str]:
    """An admin who set up their authenticator and confirmed a code in an open console session: their id and secret."""
    key, cipher = app.store.keyring.token_key, app.store.keyring.cipher
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("QN", "Tỉnh Quảng Ninh", None)
        admin, _ = await service.add_staff("Nguyễn Quản Trị", Role.ADMIN, "QN", None, "vi")
        link = await signin.issue_link(repos, key, app.clock, admin.id, "http://127.0.0.1:8080")
        spent = await signin.spend_link(repos, key, app.clock, link.url.rsplit("/", 1)[1], POLICY)
        assert spent is not None
        session = await signin.resume(repos, key, app.clock, spent[1], POLICY)
        assert session is not None
        secret = await signin.setup_secret(repos, cipher, admin.id)
        assert secret is not None
        outcome = await signin.confirm_code(
            repos, key, cipher, app.clock, session, pyotp.TOTP(secret).at(app.clock.now())
        )
        assert outcome.accepted
        assert await signin.setup_secret(repos, cipher, admin.id) is None  # confirmed: no setup shown any more
    return admin.id, secret


async def test_reset_clears_the_key_ends_the_sessions_and_is_audited(app: Any, env: dict[str, str]) -> None:
    admin, old_secret = await _admin_signed_in(app)
    async with app.store.transaction() as repos:  # a link the bot sent to the lost phone just now (the CLI's clock)
        unspent = await signin.issue_link(repos, app.store.keyring.token_key, SystemClock(), admin, "http://127.0.0.1")

    out = await asyncio.to_thread(ok_json, env, "staff", "reset-second-factor", "--id", str(admin))
    assert out == {"staff_id": admin, "had_secret": True, "ended_sessions": 1, "revoked_links": 1}
    async with app.store.transaction() as repos:
        token = unspent.url.rsplit("/", 1)[1]
        assert await signin.spend_link(repos, app.store.keyring.token_key, app.clock, token, POLICY) is None

    async with app.store.transaction() as repos:
        row = await repos.session.get(StaffRow, admin)
        assert row is not None and row.totp_secret_enc is None and row.totp_last_step is None
        [session] = (await repos.session.execute(select(ConsoleSessionRow))).scalars().all()
        assert session.ended_reason == "second_factor_reset"
        fresh = await signin.setup_secret(repos, app.store.keyring.cipher, admin)  # the next sign-in enrols again
        assert fresh is not None and fresh != old_secret
        [entry] = (
            (await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "second_factor_reset")))
            .scalars()
            .all()
        )
    assert (entry.actor_type, entry.subject_type, entry.subject_id) == ("operator", "staff", admin)
    assert entry.detail["os_user"] == os_user() and entry.detail["ended_sessions"] == 1

    human = await asyncio.to_thread(call, env, "staff", "reset-second-factor", "--id", str(admin))
    assert human.exit_code == 0
    assert f"staff {admin}: authenticator key cleared" in human.stdout and "0 console session(s) ended" in human.stdout
    assert "0 unspent link(s) revoked" in human.stdout


async def test_an_unknown_id_is_refused(app: Any, env: dict[str, str]) -> None:
    refused = await asyncio.to_thread(call, env, "staff", "reset-second-factor", "--id", "999", "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout) == {"error": "no staff member 999"}
    beyond = await asyncio.to_thread(call, env, "staff", "reset-second-factor", "--id", "99999999999", "--json")
    assert beyond.exit_code == 1  # past the database's integers: the same answer, not a traceback
    assert json.loads(beyond.stdout) == {"error": "no staff member 99999999999"}
    async with app.store.transaction() as repos:
        audited = (await repos.session.execute(select(AuditEventRow.action))).scalars().all()
    assert "second_factor_reset" not in audited
