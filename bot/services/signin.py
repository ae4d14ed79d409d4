"""Signing in to the staff console without passwords: a one-time link sent through the bot (or printed by the CLI
for the first admin), then a server-side session; admins confirm a TOTP code as a second factor in production.

Tokens are 32 random bytes; only their keyed hash is stored, so a copy of the database opens nothing. A link is spent
by one atomic UPDATE (`used_at IS NULL AND expires_at > now`): two tabs, or a link previewer racing the person, cannot
both get in. A session row ends (`ended_at`) on sign-out, and all of a staff member's sessions end when their role,
unit or point changes or their account is closed (`end_sessions`, called by those operations).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import or_, select, update

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import ConsoleSessionRow, LoginLinkRow, StaffRow
from bot.db.store import Repositories
from bot.domain.entities import Role, StaffMember

LINK_TTL = timedelta(minutes=10)
LOGIN_PATH = "/console/login/"


@dataclass(frozen=True, slots=True)
class LoginLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    staff: StaffMember
    token_hash: str
    second_factor_done: bool


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta


class SigninError(ValueError):
    """A link cannot be issued (unknown or closed account); the message says why."""


def token_hash(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def csrf_token(key: bytes, session_hash: str) -> str:
    """Bound to the session: a token from another session (or none) is refused; nothing extra is stored."""
    return hmac.new(key, f"csrf:{session_hash}".encode(), hashlib.sha256).hexdigest()[:43]


def base_url(public_url: str | None, host: str, port: int) -> str:
    if public_url:
        return public_url.rstrip("/")
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def issue_link(repos: Repositories, key: bytes, clock: Clock, staff_id: int, base: str) -> LoginLink:
    staff = await repos.staff.get(staff_id)
    if staff is None:
        raise SigninError(f"no staff member {staff_id}")
    if not staff.active:
        raise SigninError(f"staff member {staff_id} is deactivated")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = LoginLinkRow(staff_id=staff_id, token_hash=token_hash(key, token), created_at=now, expires_at=now + LINK_TTL)
    repos.session.add(row)
    await repos.session.flush()
    return LoginLink(f"{base}{LOGIN_PATH}{token}", row.expires_at)


async def spend_link(
    repos: Repositories, key: bytes, clock: Clock, token: str, policy: SessionPolicy
) -> tuple[StaffMember, str] | None:
    """The link's staff member and a new session token, or None for a used, expired, unknown or closed one (the
    caller says the same polite thing for all of them)."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    spent = await repos.session.execute(
        update(LoginLinkRow)
        .where(
            LoginLinkRow.token_hash == token_hash(key, token),
            LoginLinkRow.used_at.is_(None),  # type: ignore[union-attr]
            LoginLinkRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginLinkRow.staff_id)
    )
    staff_id = spent.scalar_one_or_none()
    if staff_id is None:
        return None
    staff = await repos.staff.get(staff_id)
    if staff is None or not staff.active:
        return None
    session_token = secrets.token_urlsafe(32)
    repos.session.add(
        ConsoleSessionRow(
            token_hash=token_hash(key, session_token),
            staff_id=staff_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
        )
    )
    await repos.session.flush()
    return staff, session_token


async def resume(
    repos: Repositories, key: bytes, clock: Clock, token: str | None, policy: SessionPolicy
) -> Session | None:
    """The live session behind a cookie, touched; None when it ended, idled out, outlived its lifetime, or its
    staff member was closed since."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    lookup = select(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash(key, token))
    row = (await repos.session.execute(lookup)).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        row.ended_at, row.ended_reason = now, "expired"
        await repos.session.flush()
        return None
    staff = await repos.staff.get(row.staff_id)
    if staff is None or not staff.active:
        row.ended_at, row.ended_reason = now, "deactivated"
        await repos.session.flush()
        return None
    if now - row.last_seen_at >= timedelta(seconds=30):  # touch at most twice a minute: fewer writes per page
        row.last_seen_at = now
        await repos.session.flush()
    assert row.id is not None
    return Session(row.id, staff, row.token_hash, row.second_factor_at is not None)


async def end_session(repos: Repositories, clock: Clock, session_id: int, reason: str = "signed_out") -> None:
    await repos.session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id == session_id, ConsoleSessionRow.ended_at.is_(None))  # type: ignore[union-attr]
        .values(ended_at=clock.now(), ended_reason=reason)
    )


async def end_sessions(repos: Repositories, now: datetime, staff_id: int, reason: str) -> int:
    """Every open session of a staff member ends now (role, unit or point changed; account closed)."""
    result = await repos.session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.staff_id == staff_id, ConsoleSessionRow.ended_at.is_(None))  # type: ignore[union-attr]
        .values(ended_at=now, ended_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def needs_second_factor(staff: StaffMember, production: bool) -> bool:
    """Admins reach the whole province: in production they confirm a TOTP code after the link."""
    return production and staff.role is Role.ADMIN


# -- the admins' second factor (TOTP, RFC 6238: 30-second steps, 6 digits) ----------------------------------------

TOTP_COLUMN = "staff_member.totp_secret"


async def totp_secret(repos: Repositories, cipher: FieldCipher, staff_id: int, *, create: bool = False) -> str | None:
    """The staff member's TOTP secret (sealed at rest); a new one when asked to create and none exists yet."""
    row = await repos.session.get(StaffRow, staff_id)
    if row is None:
        return None
    ref = row_ref(id=staff_id)
    if row.totp_secret_enc is not None:
        return cipher.decrypt(row.totp_secret_enc, TOTP_COLUMN, ref)
    if not create:
        return None
    secret = pyotp.random_base32()
    row.totp_secret_enc = cipher.encrypt(secret, TOTP_COLUMN, ref)
    await repos.session.flush()
    return secret


async def accept_totp(
    repos: Repositories, cipher: FieldCipher, clock: Clock, staff_id: int, session_id: int, code: str
) -> bool:
    """A code for the current step (or the one just before or after: phone clocks drift) that was never accepted
    before: the step is recorded in the same UPDATE that checks it, so a code read over a shoulder is spent."""
    code = "".join(ch for ch in code if ch.isdigit())
    secret = await totp_secret(repos, cipher, staff_id)
    if secret is None or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            claimed = await repos.session.execute(
                update(StaffRow)
                .where(
                    StaffRow.id == staff_id,
                    or_(StaffRow.totp_last_step.is_(None), StaffRow.totp_last_step < step),  # type: ignore[union-attr,operator]
                )
                .values(totp_last_step=step)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return False
            await repos.session.execute(
                update(ConsoleSessionRow).where(ConsoleSessionRow.id == session_id).values(second_factor_at=now)
            )
            return True
    return False


async def session_for_second_factor(
    repos: Repositories, key: bytes, clock: Clock, token: str | None, policy: SessionPolicy
) -> Session | None:
    """The live session waiting for its second factor (resume() refuses nothing for it; the page wrapper does)."""
    return await resume(repos, key, clock, token, policy)
