"""Signing in to the staff console without passwords: a one-time link sent through the bot (or printed by the CLI
for the first admin), then a server-side session; admins confirm a TOTP code as a second factor in production.

Tokens are 32 random bytes; only their keyed hash is stored, so a copy of the database opens nothing. A link is spent
by one atomic UPDATE (`used_at IS NULL AND expires_at > now`): two tabs, or a link previewer racing the person, cannot
both get in. A session row ends (`ended_at`) on sign-out, and all of a staff member's sessions end when their role,
unit or point changes or their account is closed (`end_sessions`, called by those operations).

An admin's session is half open until a TOTP code is accepted (`confirm_code`): five wrong codes end it (counted in
the audit log, one entry per code, so no column is needed), and an accepted code gives the session a new token (the
half-open one opens nothing any more). The secret is shown for setup until its first code is accepted, and the
operator can clear it (`reset_second_factor`) for an admin who lost it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import func, or_, select, update

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.models import AuditEventRow, ConsoleSessionRow, LoginLinkRow, StaffRow
from bot.db.store import Repositories
from bot.domain.entities import Role, StaffMember
from bot.domain.ids import record_id

LINK_TTL = timedelta(minutes=10)
LOGIN_PATH = "/console/login/"
MAX_CODE_FAILURES = 5  # wrong second-factor codes a session may send; the fifth ends it
# Wrong codes one account may send in a day, whatever the links: someone holding the admin's chat can ask for link
# after link, so the per-session count alone would let them guess on. Past it, codes are refused until the day has
# passed or the operator resets the second factor.
MAX_ACCOUNT_CODE_FAILURES = 20
ACCOUNT_FAILURE_WINDOW = timedelta(hours=24)
SESSION_SUBJECT = "console_session"  # the audit entries of one session's codes name it as their record


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


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    """What one second-factor code did: accepted (`token` is the session's new token: the old one opens nothing
    now), refused (`failures` so far), or refused for the last time or too late (`ended`: the session is over)."""

    token: str | None = None
    failures: int = 0
    ended: bool = False
    locked: bool = False  # the account sent too many wrong codes today: no link helps until tomorrow or a reset
    over_before: bool = False  # the session had ended before this code came (idle, signed out, a parallel attempt)

    @property
    def accepted(self) -> bool:
        return self.token is not None


@dataclass(frozen=True, slots=True)
class SecondFactorReset:
    staff_id: int
    had_secret: bool
    ended_sessions: int
    revoked_links: int


def token_hash(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def token_hashes(key: bytes, token: str, previous: Sequence[bytes] = ()) -> list[str]:
    """The token's hash under the writing key and every key a rotation still accepts: a link or session made before
    the rotation keeps working until it expires."""
    return [token_hash(k, token) for k in (key, *previous)]


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
    repos: Repositories,
    key: bytes,
    clock: Clock,
    token: str,
    policy: SessionPolicy,
    previous: Sequence[bytes] = (),
) -> tuple[StaffMember, str] | None:
    """The link's staff member and a new session token, or None for a used, expired, unknown or closed one (the
    caller says the same polite thing for all of them)."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    spent = await repos.session.execute(
        update(LoginLinkRow)
        .where(
            LoginLinkRow.token_hash.in_(token_hashes(key, token, previous)),  # type: ignore[attr-defined]
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
    repos: Repositories,
    key: bytes,
    clock: Clock,
    token: str | None,
    policy: SessionPolicy,
    previous: Sequence[bytes] = (),
) -> Session | None:
    """The live session behind a cookie, touched; None when it ended, idled out, outlived its lifetime, or its
    staff member was closed since."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    hashes = token_hashes(key, token, previous)
    lookup = select(ConsoleSessionRow).where(ConsoleSessionRow.token_hash.in_(hashes))  # type: ignore[attr-defined]
    row = (await repos.session.execute(lookup)).scalars().first()
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


async def rotate_token(repos: Repositories, key: bytes, session_id: int) -> str:
    """A new token for the same session row: the cookie changes when the session gains rights, so a token someone
    planted or saw before that (session fixation) never reaches the console."""
    token = secrets.token_urlsafe(32)
    await repos.session.execute(
        update(ConsoleSessionRow).where(ConsoleSessionRow.id == session_id).values(token_hash=token_hash(key, token))
    )
    return token


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


async def confirm_code(
    repos: Repositories, key: bytes, cipher: FieldCipher, clock: Clock, session: Session, code: str
) -> CodeOutcome:
    """One code for a session waiting for its second factor, audited. Accepted: the session is confirmed and gets a
    new token. Wrong: counted; the MAX_CODE_FAILURES-th wrong code ends the session (the person asks the bot for a
    new link), so six digits cannot be guessed through one stolen link. Attempts of one session take turns: the
    first UPDATE holds its row until the transaction ends."""
    now = clock.now()
    held = await repos.session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.id == session.id, ConsoleSessionRow.ended_at.is_(None))  # type: ignore[union-attr]
        .values(last_seen_at=now)
        .returning(ConsoleSessionRow.id)
    )
    if held.scalar_one_or_none() is None:  # ended by an attempt that went first (or signed out): not by this code
        return CodeOutcome(ended=True, over_before=True)
    staff_id = session.staff.id
    # Attempts of one account take turns too, whatever their sessions: the day's count below is then exact.
    await repos.session.execute(update(StaffRow).where(StaffRow.id == staff_id).values(id=StaffRow.id))

    async def audit(action: str, outcome: str, detail: dict[str, object] | None = None) -> None:
        await repos.audit.record(
            actor_type="staff", actor_id=staff_id, action=action, outcome=outcome,
            subject_type=SESSION_SUBJECT, subject_id=session.id, detail=detail,
        )  # fmt: skip

    if await account_failures(repos, staff_id, now) >= MAX_ACCOUNT_CODE_FAILURES:  # not even tried
        await end_session(repos, clock, session.id, "second_factor_locked")
        await audit("console_session_ended", "denied", {"reason": "account_locked"})
        return CodeOutcome(ended=True, locked=True)
    if await accept_totp(repos, cipher, clock, staff_id, session.id, code):
        token = await rotate_token(repos, key, session.id)
        await audit("console_second_factor", "ok")
        return CodeOutcome(token=token)
    failures = await code_failures(repos, session.id) + 1
    await audit("console_second_factor", "refused", {"failures": failures})
    if failures < MAX_CODE_FAILURES:
        return CodeOutcome(failures=failures)
    await end_session(repos, clock, session.id, "second_factor_failed")
    await audit("console_session_ended", "denied", {"reason": "too_many_codes", "failures": failures})
    return CodeOutcome(failures=failures, ended=True)


async def account_failures(repos: Repositories, staff_id: int, now: datetime) -> int:
    """Wrong codes this account has sent in the last day, over all its sessions, counted from the operator's last
    reset of its second factor if that came later."""
    reset = select(func.max(AuditEventRow.at)).where(
        AuditEventRow.action == "second_factor_reset",
        AuditEventRow.subject_type == "staff",
        AuditEventRow.subject_id == staff_id,
    )
    since = now - ACCOUNT_FAILURE_WINDOW
    last_reset = (await repos.session.execute(reset)).scalar_one_or_none()
    if last_reset is not None and last_reset > since:
        since = last_reset
    count = select(func.count()).where(
        AuditEventRow.action == "console_second_factor",
        AuditEventRow.outcome == "refused",
        AuditEventRow.actor_type == "staff",
        AuditEventRow.actor_id == staff_id,
        AuditEventRow.at >= since,
    )
    return int((await repos.session.execute(count)).scalar_one())


async def code_failures(repos: Repositories, session_id: int) -> int:
    """Wrong codes this session has sent, as the audit log has them."""
    count = select(func.count()).where(
        AuditEventRow.action == "console_second_factor",
        AuditEventRow.outcome == "refused",
        AuditEventRow.subject_type == SESSION_SUBJECT,
        AuditEventRow.subject_id == session_id,
    )
    return int((await repos.session.execute(count)).scalar_one())


async def setup_secret(repos: Repositories, cipher: FieldCipher, staff_id: int) -> str | None:
    """The secret to show for setup (made now if there is none) until a code from it is accepted; None after that.
    `totp_last_step` is null until a code is accepted, so an admin who missed the QR code sees it again."""
    row = await repos.session.get(StaffRow, staff_id)
    if row is None or (row.totp_secret_enc is not None and row.totp_last_step is not None):
        return None
    return await totp_secret(repos, cipher, staff_id, create=True)


async def reset_second_factor(repos: Repositories, now: datetime, staff_id: int) -> SecondFactorReset:
    """The operator clears a staff member's TOTP secret (a lost phone): their next sign-in sets up a new one. Their
    open console sessions end too, since they were confirmed with the lost one. Unknown id: LookupError."""
    row = await repos.session.get(StaffRow, staff_id) if record_id(staff_id) is not None else None
    if row is None:
        raise LookupError(f"no staff member {staff_id}")
    had_secret = row.totp_secret_enc is not None
    row.totp_secret_enc, row.totp_last_step = None, None
    await repos.session.flush()
    ended = await end_sessions(repos, now, staff_id, "second_factor_reset")
    revoked = await repos.session.execute(  # a link sent to the lost phone before the reset opens nothing
        update(LoginLinkRow)
        .where(
            LoginLinkRow.staff_id == staff_id,
            LoginLinkRow.used_at.is_(None),  # type: ignore[union-attr]
            LoginLinkRow.expires_at > now,
        )
        .values(used_at=now)
    )
    return SecondFactorReset(staff_id, had_secret, ended, int(revoked.rowcount or 0))  # type: ignore[attr-defined]


async def session_for_second_factor(
    repos: Repositories, key: bytes, clock: Clock, token: str | None, policy: SessionPolicy
) -> Session | None:
    """The live session waiting for its second factor (resume() refuses nothing for it; the page wrapper does)."""
    return await resume(repos, key, clock, token, policy)
