"""Who is behind an operator command (the CLI, or a staff member in the console): every audit entry it causes says who.

The command line runs with full power on the server; what it records is responsibility, not permission: the staff
member who took the action (`aftercare --as STAFF_ID`, checked to exist and be active) and the OS account it ran
under. Entries carry actor_type "operator", the staff id (or none) as actor_id and {"os_user": …} in the detail.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.db.store import Repositories

ACTOR_TYPE = "operator"


class OperatorError(ValueError):
    """`--as` names no active staff member: refused before anything is done."""


@dataclass(frozen=True, slots=True)
class Operator:
    staff_id: int | None = None
    os_user: str | None = None
    actor_type: ClassVar[str] = ACTOR_TYPE

    def detail(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The audit detail: the OS account first, then what the action adds (ids and counts only)."""
        out: dict[str, Any] = {"os_user": self.os_user} if self.os_user else {}
        return out | (extra or {})

    async def record(
        self,
        repos: Repositories,
        action: str,
        *,
        subject_type: str | None = None,
        subject_id: int | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        await repos.audit.record(
            actor_type=self.actor_type,
            actor_id=self.staff_id,
            action=action,
            outcome=outcome,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=self.detail(detail),
        )


@dataclass(frozen=True, slots=True)
class StaffOperator(Operator):
    """A staff member acting through the console: the same audit entries as an operator's, as "staff" (no OS
    account: the console's sessions say who)."""

    actor_type: ClassVar[str] = "staff"


def os_user() -> str:
    """The account the command runs under; "unknown" when the system cannot say (no passwd entry for the uid in a
    container, no USER/LOGNAME): recording must never stop the command."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # KeyError (no passwd entry) or OSError (3.13+) depending on the Python version
        return "unknown"


async def resolve(repos: Repositories, staff_id: int | None, user: str) -> Operator:
    """The operator of this command; `staff_id` (from --as) must be a known, active staff member."""
    if staff_id is not None:
        member = await repos.staff.get(staff_id)
        if member is None:
            raise OperatorError(f"--as {staff_id}: no such staff member")
        if not member.active:
            raise OperatorError(f"--as {staff_id}: this staff member's account is not active")
    return Operator(staff_id, user)
