"""Changing a staff member's role, unit or counselling point (the admin's, or a commune officer's for their cadres and
counsellors), as one operation shared by the console and any later command.

A new file rather than a part of bot/services/access.py: access.py takes access away (close an account, unlink
chats); this moves an account that stays open, and only borrows access.py's way of handing a counsellor's work back
(`release_referrals`). Authorised with MANAGE_STAFF twice: over the account as it is (an officer reaches their own
commune's cadres and counsellors) and over the account as it would be (an officer cannot make a cadre an officer, or
send one to another commune; an admin keeps staff inside their province). A refusal is recorded in the caller's
transaction before anything changed (catch `Refused` inside it, as access.py explains).

What follows a change, in the same transaction:
- every console session of that staff member ends ("role_changed"): what they may see was decided with the old
  role, so the next page asks them to sign in again; their linked chats stay (each message reads their role afresh);
- a cadre who leaves the role or the commune no longer accompanies anyone there: each of their people is left
  without a cadre (the same path as an officer's unassignment: their conversation with the cadre ends and they are
  told), alerts still waiting on the cadre go to the commune's officers now ("no cadre is assigned"), and the
  officers are told these people need a new cadre, as when a cadre's account is closed;
- a counsellor who leaves the role or their point hands back what they had taken: it waits again at that point and
  its counsellors are told of each conversation (access.release_referrals, as on closing the account); off duty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core.i18n import N_
from bot.db.repositories.province_admin import set_placement
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, StaffScope, decide
from bot.domain.entities import CounsellingPoint, Role, StaffMember, Unit, UnitLevel
from bot.domain.planning import MessageKind
from bot.services.access import AccessError, Refused, release_referrals
from bot.services.escalations import Why, cadre_cannot_act, tell_officers
from bot.services.fieldwork import assign_cadre
from bot.services.operators import Operator
from bot.services.signin import end_sessions

if TYPE_CHECKING:
    from bot.core.i18n import Translator

# Why a placement cannot be (the same rules as `aftercare staff add`), as text for the reader's language.
PROBLEMS: dict[str, str] = {
    "unchanged": N_("Nothing was changed: the role, unit and counselling point are the same as before."),
    "no_unit": N_("Choose the commune/ward (or the province for an administrator)."),
    "admin_province": N_("An administrator belongs to a province, not to a commune/ward."),
    "commune_role": N_("Cadres and officers belong to a commune/ward, not to the province."),
    "needs_point": N_("A counsellor needs their counselling point."),
    "point_only_counsellor": N_("Only counsellors belong to a counselling point."),
    "point_elsewhere": N_("That counselling point cannot be chosen here."),
}


class StaffChangeError(AccessError):
    """The change cannot be made as asked; nothing was changed. `explain(t)` says why in the reader's language."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)

    def explain(self, t: Translator) -> str:
        return t._(PROBLEMS[self.kind])


@dataclass(frozen=True, slots=True)
class Placement:
    role: Role
    unit_id: int
    point_id: int | None = None


@dataclass(slots=True)
class PlacementChanged:
    staff_id: int
    before: Placement
    after: Placement
    sessions_ended: int = 0
    people_without_cadre: list[int] = field(default_factory=list)
    alerts_to_officers: int = 0
    referrals_released: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _province_of(unit: Unit) -> int:
    return unit.id if unit.level is UnitLevel.PROVINCE else (unit.parent_id or unit.id)


def placement_problem(role: Role, unit: Unit | None, point: CounsellingPoint | None, point_unit: Unit | None) -> str:
    """"" when a staff member may have this role in this unit at this point, else the PROBLEMS key: an admin in a
    province, a cadre or an officer in a commune, a counsellor (only) at a point serving their commune or its
    province (a counsellor of the province: any point of it). So an officer, who reaches their commune's staff, never
    places a counsellor at another commune's point."""
    if unit is None:
        return "no_unit"
    if role is Role.ADMIN and unit.level is not UnitLevel.PROVINCE:
        return "admin_province"
    if role in (Role.CADRE, Role.OFFICER) and unit.level is not UnitLevel.COMMUNE:
        return "commune_role"
    if role is Role.COUNSELLOR:
        if point is None:
            return "needs_point"
        if point_unit is None:
            return "point_elsewhere"
        serves = point_unit.id in (unit.id, unit.parent_id) if unit.level is UnitLevel.COMMUNE else (
            _province_of(point_unit) == unit.id
        )
        if not serves:
            return "point_elsewhere"
    elif point is not None:
        return "point_only_counsellor"
    return ""


async def _scope(repos: Repositories, staff_id: int, role: Role, unit_id: int) -> StaffScope:
    unit = await repos.units.get(unit_id)
    return StaffScope(staff_id, role, unit_id, unit.parent_id if unit else None)


async def _refused(repos: Repositories, operator: Operator, staff_id: int, reason: str) -> Refused:
    await operator.record(
        repos, f"denied:{Action.MANAGE_STAFF.value}", subject_type="staff", subject_id=staff_id, outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return Refused("not allowed")


async def change_placement(
    repos: Repositories, staff_id: int, new: Placement, operator: Operator, now: datetime, by: Actor | None = None
) -> PlacementChanged:
    """Give a staff member a new role, unit and/or counselling point, and look after what depended on the old one
    (see the module's docstring). `by`: the console user, authorised over the account before and after; None: the
    server's operator (recorded, not restricted). Raises Refused (recorded) or StaffChangeError (nothing written)."""
    member = await repos.staff.get(staff_id)
    if member is None:
        if by is not None:
            raise await _refused(repos, operator, staff_id, "no such record")
        raise AccessError(f"no staff member {staff_id}")
    if by is not None:
        for role, unit_id, when in ((member.role, member.unit_id, "now"), (new.role, new.unit_id, "after")):
            decision = decide(by, Action.MANAGE_STAFF, await _scope(repos, staff_id, role, unit_id))
            if not decision:
                raise await _refused(repos, operator, staff_id, f"{when}: {decision.reason}")
    unit = await repos.units.get(new.unit_id)
    point = await repos.points.get(new.point_id) if new.point_id is not None else None
    if new.point_id is not None and point is None:
        raise StaffChangeError("point_elsewhere")
    problem = placement_problem(new.role, unit, point, await repos.units.get(point.unit_id) if point else None)
    if problem:
        raise StaffChangeError(problem)
    before = Placement(member.role, member.unit_id, member.point_id)
    if before == new:
        raise StaffChangeError("unchanged")
    await set_placement(repos.session, staff_id, new.role, new.unit_id, new.point_id)
    result = PlacementChanged(staff_id, before, new)
    result.sessions_ended = await end_sessions(repos, now, staff_id, "role_changed")
    if member.role is Role.CADRE and (new.role is not Role.CADRE or new.unit_id != member.unit_id):
        await _cadre_leaves(repos, member, operator, now, result)
    if member.role is Role.COUNSELLOR and (new.role is not Role.COUNSELLOR or new.point_id != member.point_id):
        result.referrals_released.extend(await release_referrals(repos, staff_id, now))
    await operator.record(
        repos,
        "staff_changed",
        subject_type="staff",
        subject_id=staff_id,
        detail={
            "from_role": before.role.value, "to_role": new.role.value, "from_unit": before.unit_id,
            "to_unit": new.unit_id, "from_point": before.point_id, "to_point": new.point_id,
            "sessions_ended": result.sessions_ended, "people_without_cadre": len(result.people_without_cadre),
            "alerts_to_officers": result.alerts_to_officers, "referrals_released": len(result.referrals_released),
        },
    )  # fmt: skip
    return result


async def _cadre_leaves(
    repos: Repositories, member: StaffMember, operator: Operator, now: datetime, result: PlacementChanged
) -> None:
    """The cadre no longer accompanies anyone in their old commune: their people are unassigned (each told, their
    conversation with the cadre ended), alerts waiting on them go to the officers at once, and the officers are
    told who needs a new cadre."""
    for escalation_id in await repos.escalations.waiting_on_cadre(member.id):
        result.alerts_to_officers += await cadre_cannot_act(repos, escalation_id, now, Why.NO_CADRE)
    people = await repos.participants.followed(member.unit_id, member.id)
    for person in people:
        await assign_cadre(repos, person, None, operator.staff_id, now, operator)
    result.people_without_cadre.extend(p.id for p in people)
    if people:
        await tell_officers(
            repos, member.unit_id, f"cadre_needed:{member.id}:{now.astimezone(UTC):%Y%m%d%H%M%S%f}",
            MessageKind.CADRE_NEEDED, now, {"cadre_id": member.id, "people": [p.id for p in people]},
        )  # fmt: skip
